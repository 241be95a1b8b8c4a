// Streamed playback: raw PCM from the service, played on Web Audio as it arrives.

let player = null; // one AudioContext for the page, and what it has scheduled
function audioPlayer() {
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (!Ctx) return null;
  if (!player) player = { ctx: new Ctx(), sources: [] };
  for (const source of player.sources) source.stop(); // a new stream replaces the last
  player.sources = [];
  if (player.ctx.state === "suspended") player.ctx.resume();
  return player;
}

// Reads a stream of raw s16le PCM, scheduling each piece to play right after the last
// (Web Audio), as soon as it arrives. Returns all the PCM, or null if `stale()` turned
// true on the way (then it cancels the stream: the server stops making the rest).
export async function playStream(response, rate, stale) {
  const out = audioPlayer();
  const reader = response.body.getReader();
  const parts = [];
  let carry = new Uint8Array(0);
  let at = 0;
  let chunks = 0;
  let firstPlayed = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    if (stale()) {
      reader.cancel();
      return null;
    }
    const bytes = new Uint8Array(carry.length + value.length);
    bytes.set(carry);
    bytes.set(value, carry.length);
    const even = bytes.length - (bytes.length % 2); // a sample may straddle two reads
    carry = bytes.slice(even);
    if (even === 0) continue;
    const piece = bytes.slice(0, even);
    parts.push(piece);
    chunks += 1;
    if (!out) continue;
    const samples = new Int16Array(piece.buffer);
    const buffer = out.ctx.createBuffer(1, samples.length, rate);
    const channel = buffer.getChannelData(0);
    for (let i = 0; i < samples.length; i++) channel[i] = samples[i] / 32768;
    const source = out.ctx.createBufferSource();
    source.buffer = buffer;
    source.connect(out.ctx.destination);
    at = Math.max(at, out.ctx.currentTime + 0.05); // a little lead against jitter
    source.start(at);
    out.sources.push(source);
    at += buffer.duration;
    if (firstPlayed === null) firstPlayed = performance.now();
  }
  const pcm = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    pcm.set(p, offset);
    offset += p.length;
  }
  return { pcm, chunks, firstPlayed, ended: performance.now(), audio: out ? out.ctx.state : "none" };
}
