// The demo page: plain JavaScript, no build step, no other origin.
// It talks to the service it is served by: POST /generate, POST /reconstruct, GET /v1/model,
// GET and POST /v1/voices.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);

  // What the page did last, for "same seed again" (and for tests to inspect).
  const demo = { last: null, results: [], model: null, voices: [] };
  window.audioVaeDemo = demo;
  const PHASE_NAMES = { vocoder: "vocoder at your pitch", original: "original phase", griffinlim: "Griffin-Lim" };

  // ---------- HTTP ----------

  // Throws an Error whose message is the service's problem `detail` when there is one.
  async function request(url, options) {
    let response;
    try {
      response = await fetch(url, options);
    } catch (err) {
      throw new Error(`the service could not be reached (${err.message})`);
    }
    if (response.ok) return response;
    let detail = `${response.status} ${response.statusText}`;
    const type = response.headers.get("content-type") || "";
    try {
      if (type.includes("json")) {
        const body = await response.json();
        if (body && body.detail) detail = `${body.detail} (HTTP ${response.status})`;
      } else {
        const text = (await response.text()).trim();
        if (text) detail = `${text.slice(0, 300)} (HTTP ${response.status})`;
      }
    } catch (_) {
      /* keep the status line */
    }
    const retry = response.headers.get("retry-after");
    if (retry) detail += `; try again in ${retry} s`;
    throw new Error(detail);
  }

  function setStatus(el, text, isError) {
    el.textContent = text;
    el.classList.toggle("error", Boolean(isError));
    if (isError) el.setAttribute("role", "alert");
    else el.setAttribute("role", "status");
  }

  // ---------- Audio decoding and WAV encoding ----------

  // PCM16 / PCM24 / PCM32 / float32 WAV -> mono Float32Array. Returns null if not such a WAV.
  function parseWav(buffer) {
    const view = new DataView(buffer);
    const tag = (at) => String.fromCharCode(...new Uint8Array(buffer, at, 4));
    if (buffer.byteLength < 44 || tag(0) !== "RIFF" || tag(8) !== "WAVE") return null;
    let fmt = null;
    let offset = 12;
    while (offset + 8 <= buffer.byteLength) {
      const id = tag(offset);
      const size = view.getUint32(offset + 4, true);
      const body = offset + 8;
      if (id === "fmt ") {
        let format = view.getUint16(body, true);
        if (format === 0xfffe && size >= 26) format = view.getUint16(body + 24, true);
        fmt = {
          format,
          channels: view.getUint16(body + 2, true),
          rate: view.getUint32(body + 4, true),
          bits: view.getUint16(body + 14, true),
        };
      } else if (id === "data" && fmt) {
        const { format, channels, rate, bits } = fmt;
        const width = bits / 8;
        const usable = Math.min(size, buffer.byteLength - body);
        const frames = Math.floor(usable / (width * channels));
        const out = new Float32Array(frames);
        const read = {
          "1:16": (at) => view.getInt16(at, true) / 32768,
          "1:24": (at) =>
            ((view.getUint8(at) | (view.getUint8(at + 1) << 8) | (view.getInt8(at + 2) << 16)) /
              8388608),
          "1:32": (at) => view.getInt32(at, true) / 2147483648,
          "3:32": (at) => view.getFloat32(at, true),
        }[`${format}:${bits}`];
        if (!read || channels < 1) return null;
        for (let i = 0; i < frames; i++) {
          let sum = 0;
          for (let c = 0; c < channels; c++) sum += read(body + (i * channels + c) * width);
          out[i] = sum / channels;
        }
        return { samples: out, rate };
      }
      offset = body + size + (size % 2);
    }
    return null;
  }

  // Anything the browser can decode (webm/opus from the recorder, mp3, ...) -> mono.
  function decodeWithWebAudio(buffer) {
    const Offline = window.OfflineAudioContext || window.webkitOfflineAudioContext;
    if (!Offline) return Promise.reject(new Error("this browser cannot decode audio"));
    const ctx = new Offline(1, 1, 22050);
    return new Promise((resolve, reject) => {
      const done = (audio) => {
        const out = new Float32Array(audio.length);
        for (let c = 0; c < audio.numberOfChannels; c++) {
          const ch = audio.getChannelData(c);
          for (let i = 0; i < ch.length; i++) out[i] += ch[i] / audio.numberOfChannels;
        }
        resolve({ samples: out, rate: audio.sampleRate });
      };
      const fail = (err) =>
        reject(new Error(`the browser could not decode it${err && err.message ? ": " + err.message : ""}`));
      const promise = ctx.decodeAudioData(buffer.slice(0), done, fail);
      if (promise && promise.catch) promise.catch(fail);
    });
  }

  async function decodeAudio(buffer) {
    return parseWav(buffer) || decodeWithWebAudio(buffer);
  }

  function encodeWav(samples, rate) {
    const out = new ArrayBuffer(44 + samples.length * 2);
    const view = new DataView(out);
    const put = (at, text) => [...text].forEach((ch, i) => view.setUint8(at + i, ch.charCodeAt(0)));
    put(0, "RIFF");
    view.setUint32(4, 36 + samples.length * 2, true);
    put(8, "WAVE");
    put(12, "fmt ");
    view.setUint32(16, 16, true);
    view.setUint16(20, 1, true); // PCM
    view.setUint16(22, 1, true); // mono
    view.setUint32(24, rate, true);
    view.setUint32(28, rate * 2, true);
    view.setUint16(32, 2, true);
    view.setUint16(34, 16, true);
    put(36, "data");
    view.setUint32(40, samples.length * 2, true);
    for (let i = 0; i < samples.length; i++) {
      const s = Math.max(-1, Math.min(1, samples[i]));
      view.setInt16(44 + i * 2, s < 0 ? s * 32768 : s * 32767, true);
    }
    return out;
  }

  // The 44-byte header libsndfile (and so the service) writes for mono PCM16, before the
  // samples as they came: the same bytes as the same request unstreamed.
  function wavFromPcm(pcm, rate) {
    const out = new Uint8Array(44 + pcm.byteLength);
    const view = new DataView(out.buffer);
    const put = (at, text) => [...text].forEach((ch, i) => view.setUint8(at + i, ch.charCodeAt(0)));
    put(0, "RIFF");
    view.setUint32(4, 36 + pcm.byteLength, true);
    put(8, "WAVEfmt ");
    view.setUint32(16, 16, true);
    view.setUint16(20, 1, true);
    view.setUint16(22, 1, true);
    view.setUint32(24, rate, true);
    view.setUint32(28, rate * 2, true);
    view.setUint16(32, 2, true);
    view.setUint16(34, 16, true);
    put(36, "data");
    view.setUint32(40, pcm.byteLength, true);
    out.set(pcm, 44);
    return out.buffer;
  }

  // ---------- Streamed playback ----------

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
  async function playStream(response, rate, stale) {
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

  async function sha256(buffer) {
    if (window.crypto && crypto.subtle) {
      const digest = await crypto.subtle.digest("SHA-256", buffer);
      return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
    }
    // Not a secure context (e.g. a LAN address over http): FNV-1a, enough to tell clips apart.
    let h = 0x811c9dc5;
    for (const b of new Uint8Array(buffer)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
    return "fnv1a-" + h.toString(16).padStart(8, "0");
  }

  // ---------- Spectrogram ----------

  function fft(re, im) {
    const n = re.length;
    for (let i = 1, j = 0; i < n; i++) {
      let bit = n >> 1;
      for (; j & bit; bit >>= 1) j ^= bit;
      j ^= bit;
      if (i < j) {
        [re[i], re[j]] = [re[j], re[i]];
        [im[i], im[j]] = [im[j], im[i]];
      }
    }
    for (let len = 2; len <= n; len <<= 1) {
      const angle = (-2 * Math.PI) / len;
      const wr = Math.cos(angle);
      const wi = Math.sin(angle);
      for (let i = 0; i < n; i += len) {
        let cr = 1;
        let ci = 0;
        for (let k = 0; k < len / 2; k++) {
          const a = i + k;
          const b = a + len / 2;
          const tr = re[b] * cr - im[b] * ci;
          const ti = re[b] * ci + im[b] * cr;
          re[b] = re[a] - tr;
          im[b] = im[a] - ti;
          re[a] += tr;
          im[a] += ti;
          const next = cr * wr - ci * wi;
          ci = cr * wi + ci * wr;
          cr = next;
        }
      }
    }
  }

  // |STFT| in dB (ref = max, floor -80 dB), Hann window, n_fft 512, hop 256, like the model.
  function spectrogram(samples, rate, maxHz) {
    const nFft = 512;
    const hop = 256;
    const window = new Float32Array(nFft).map((_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / nFft));
    const bins = Math.max(2, Math.min(nFft / 2 + 1, Math.round((maxHz / (rate / 2)) * (nFft / 2)) + 1));
    const frames = Math.max(1, Math.floor(samples.length / hop) + 1);
    const power = new Float32Array(frames * bins);
    const re = new Float64Array(nFft);
    const im = new Float64Array(nFft);
    let peak = 1e-20;
    for (let f = 0; f < frames; f++) {
      const start = f * hop - nFft / 2; // centred frames, zero padding outside the clip
      for (let i = 0; i < nFft; i++) {
        const at = start + i;
        re[i] = at >= 0 && at < samples.length ? samples[at] * window[i] : 0;
        im[i] = 0;
      }
      fft(re, im);
      for (let b = 0; b < bins; b++) {
        const p = re[b] * re[b] + im[b] * im[b];
        power[f * bins + b] = p;
        if (p > peak) peak = p;
      }
    }
    const db = power.map((p) => Math.max(-80, 10 * Math.log10(Math.max(p, 1e-20) / peak)));
    return { db, frames, bins, topHz: ((bins - 1) * rate) / nFft };
  }

  // A perceptual dark-blue -> magenta -> yellow ramp (close to "magma").
  const STOPS = [
    [0, 0, 4], [40, 11, 84], [101, 21, 110], [159, 42, 99],
    [212, 72, 66], [245, 125, 21], [250, 193, 39], [252, 253, 191],
  ]; // prettier-ignore
  function colour(t) {
    const x = Math.max(0, Math.min(1, t)) * (STOPS.length - 1);
    const i = Math.min(STOPS.length - 2, Math.floor(x));
    const f = x - i;
    return STOPS[i].map((v, k) => Math.round(v + (STOPS[i + 1][k] - v) * f));
  }

  function drawSpectrogram(canvas, samples, rate) {
    const maxHz = Math.min(rate / 2, 8000);
    const { db, frames, bins, topHz } = spectrogram(samples, rate, maxHz);
    const image = document.createElement("canvas");
    image.width = frames;
    image.height = bins;
    const ictx = image.getContext("2d");
    const pixels = ictx.createImageData(frames, bins);
    for (let f = 0; f < frames; f++) {
      for (let b = 0; b < bins; b++) {
        const [r, g, bl] = colour((db[f * bins + b] + 80) / 80);
        const at = ((bins - 1 - b) * frames + f) * 4; // low frequencies at the bottom
        pixels.data[at] = r;
        pixels.data[at + 1] = g;
        pixels.data[at + 2] = bl;
        pixels.data[at + 3] = 255;
      }
    }
    ictx.putImageData(pixels, 0, 0);
    const ctx = canvas.getContext("2d");
    ctx.imageSmoothingEnabled = true;
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(image, 0, 0, canvas.width, canvas.height);
    const seconds = samples.length / rate;
    canvas.dataset.drawn = "true";
    canvas.setAttribute(
      "aria-label",
      `Spectrogram, ${seconds.toFixed(2)} s, 0 to ${(topHz / 1000).toFixed(1)} kHz; ` +
        "brighter is louder, time runs left to right, pitch bottom to top."
    );
    return { seconds, topHz };
  }

  // ---------- Result cards ----------

  // A card: title, <audio controls>, spectrogram, facts and a download link.
  async function resultCard({ title, bytes, type, filename, facts, autoplay, kind }) {
    const card = document.createElement("article");
    card.className = "result";
    card.dataset.kind = kind;
    const heading = document.createElement("h3");
    heading.textContent = title;
    const audio = document.createElement("audio");
    audio.controls = true;
    audio.preload = "auto";
    const blob = new Blob([bytes], { type });
    const url = URL.createObjectURL(blob);
    audio.src = url;
    audio.setAttribute("aria-label", title);
    const canvas = document.createElement("canvas");
    canvas.width = 600;
    canvas.height = 180;
    canvas.className = "spectrogram";
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", "Spectrogram (drawing)");
    const caption = document.createElement("p");
    caption.className = "facts";
    const hash = await sha256(bytes);
    card.dataset.sha256 = hash;
    card.dataset.bytes = String(bytes.byteLength);
    const link = document.createElement("a");
    link.href = url;
    link.download = filename;
    link.className = "download";
    link.textContent = `Download ${filename}`;
    card.append(heading, audio, canvas, caption, link);
    card._url = url;

    let drawn = "";
    try {
      const decoded = await decodeAudio(bytes);
      const { topHz } = drawSpectrogram(canvas, decoded.samples, decoded.rate);
      drawn = `spectrogram 0-${(topHz / 1000).toFixed(1)} kHz`;
    } catch (err) {
      canvas.hidden = true;
      drawn = `no spectrogram: ${err.message}`;
    }
    caption.textContent = [...facts, drawn, `SHA-256 ${hash.slice(0, 12)}`].filter(Boolean).join(" · ");
    if (autoplay) {
      audio.play().catch(() => {
        /* autoplay refused: the controls are there */
      });
    }
    return card;
  }

  function replaceResults(container, cards) {
    for (const old of container.querySelectorAll(".result")) {
      if (old._url) URL.revokeObjectURL(old._url);
    }
    container.replaceChildren(...cards);
  }

  // ---------- Generation ----------

  const genStatus = $("gen-status");
  const genResult = $("gen-result");
  const seedInput = $("seed");
  const temperature = $("temperature");
  const sharpen = $("sharpen");
  const againButton = $("again");
  let generation = 0; // a newer click wins over a slower older request

  temperature.addEventListener("input", () => {
    $("temperature-value").textContent = Number(temperature.value).toFixed(1);
  });
  sharpen.addEventListener("input", () => {
    $("sharpen-value").textContent = String(Number(sharpen.value));
  });

  function seedFromBox() {
    const text = seedInput.value.trim();
    if (text === "") return null;
    if (!/^[0-9]+$/.test(text)) throw new Error("the seed must be a whole number (0 or more), or empty for a random one");
    return text; // kept as text: seeds go up to 2^64 - 1, beyond JavaScript's exact integers
  }

  async function generate(what, seed) {
    const mine = ++generation;
    const params = new URLSearchParams(what);
    params.set("temperature", temperature.value);
    params.set("sharpen", sharpen.value);
    if (seed !== null && seed !== undefined) params.set("seed", seed);
    if (voiceSelect.value) params.set("voice", voiceSelect.value);
    const label = what.digit !== undefined ? `digit ${what.digit}` : `the number ${what.digits}`;
    setStatus(genStatus, what.digits !== undefined ? `Speaking ${label} as it is made…` : `Generating ${label}…`);
    genResult.setAttribute("aria-busy", "true");
    try {
      // A number streams: raw PCM, played digit by digit as it arrives.
      const streamed = what.digits !== undefined;
      if (streamed) {
        params.set("format", "pcm");
        params.set("stream", "true");
      }
      const response = await request(`/generate?${params}`, { method: "POST" });
      const h = (name) => response.headers.get(name);
      let bytes;
      let stream = null;
      if (streamed) {
        stream = await playStream(response, Number(h("x-sample-rate")), () => mine !== generation);
        if (!stream) return; // a newer click took over (and the stream was hung up)
        bytes = wavFromPcm(stream.pcm, Number(h("x-sample-rate")));
      } else {
        bytes = await response.arrayBuffer();
      }
      if (mine !== generation) return;
      const usedSeed = h("x-seed");
      const digits = h("x-digits") || what.digit || what.digits;
      const voice = h("x-voice") || "";
      const seconds = stream ? stream.pcm.byteLength / 2 / Number(h("x-sample-rate")) : Number(h("x-duration-seconds"));
      const card = await resultCard({
        title: digits.length === 1 ? `Digit ${digits}` : `Number ${digits}`,
        bytes,
        type: "audio/wav",
        filename: `digits-${digits}-seed-${usedSeed}.wav`,
        facts: [
          `seed ${usedSeed}`,
          voice ? `voice ${voiceName(voice)}` : "",
          `temperature ${h("x-temperature")}`,
          `clarity ${h("x-sharpen")}`,
          `${seconds.toFixed(2)} s at ${h("x-sample-rate")} Hz`,
          stream ? `streamed in ${stream.chunks} chunks` : "",
        ],
        autoplay: !streamed, // a stream has played already, as it came
        kind: "generated",
      });
      if (mine !== generation) return;
      card.dataset.seed = usedSeed;
      card.dataset.digits = digits;
      card.dataset.voice = voice;
      replaceResults(genResult, [card]);
      demo.last = { what, seed: usedSeed, temperature: temperature.value, sha256: card.dataset.sha256 };
      demo.results.push({
        kind: "generated", digits, seed: usedSeed, voice, sha256: card.dataset.sha256,
        streamed, chunks: stream ? stream.chunks : 1,
        playedBeforeEnd: stream ? stream.firstPlayed !== null && stream.firstPlayed < stream.ended : false,
        audio: stream ? stream.audio : null,
      }); // prettier-ignore
      againButton.disabled = false;
      againButton.setAttribute("aria-label", `Same seed again: ${label} with seed ${usedSeed}`);
      setStatus(genStatus, `Here is ${label} (seed ${usedSeed}).`);
    } catch (err) {
      if (mine === generation) setStatus(genStatus, `Could not generate ${label}: ${err.message}`, true);
    } finally {
      if (mine === generation) genResult.removeAttribute("aria-busy");
    }
  }

  function generateWithBoxSeed(what) {
    let seed;
    try {
      seed = seedFromBox();
    } catch (err) {
      setStatus(genStatus, err.message, true);
      seedInput.focus();
      return;
    }
    generate(what, seed);
  }

  for (const button of document.querySelectorAll("button.digit")) {
    button.setAttribute("aria-label", `Speak digit ${button.dataset.digit}`);
    button.addEventListener("click", () => generateWithBoxSeed({ digit: button.dataset.digit }));
  }

  againButton.addEventListener("click", () => {
    if (!demo.last) return;
    temperature.value = demo.last.temperature;
    temperature.dispatchEvent(new Event("input"));
    generate(demo.last.what, demo.last.seed);
  });

  $("number-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const digits = $("number").value.replace(/[\s\-().+/]/g, "");
    if (digits === "") {
      setStatus(genStatus, "Type some digits first, e.g. 415 555 1234.", true);
      $("number").focus();
      return;
    }
    // Anything else (letters, too many digits) goes to the service, which says what is wrong.
    generateWithBoxSeed({ digits });
  });

  // Keys 0-9 speak a digit, unless the user is typing in a field.
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || !/^[0-9]$/.test(event.key)) return;
    const target = event.target;
    if (target.closest && target.closest("input, textarea, select, [contenteditable]")) return;
    event.preventDefault();
    const button = document.querySelector(`button.digit[data-digit="${event.key}"]`);
    button.focus();
    button.click();
  });

  // ---------- Reconstruction ----------

  const recStatus = $("rec-status");
  const recResult = $("rec-result");
  const fileInput = $("file");
  const recordButton = $("record");
  let recorded = null; // a WAV File made from the microphone, used when no file is chosen
  let reconstruction = 0;

  fileInput.addEventListener("change", () => {
    recorded = null;
    if (fileInput.files.length) setStatus(recStatus, `Chosen: ${fileInput.files[0].name}. Press Reconstruct.`);
  });

  $("rec-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = fileInput.files[0] || recorded;
    if (!file) {
      setStatus(recStatus, "Choose an audio file (or record one) first.", true);
      fileInput.focus();
      return;
    }
    const mine = ++reconstruction;
    const phase = document.querySelector('input[name="phase"]:checked').value;
    const params = new URLSearchParams({ phase });
    if (!$("rec-digit-field").hidden) params.set("digit", $("rec-digit").value);
    const form = new FormData();
    form.append("file", file, file.name);
    setStatus(recStatus, `Reconstructing ${file.name}…`);
    recResult.setAttribute("aria-busy", "true");
    try {
      const original = await file.arrayBuffer();
      const response = await request(`/reconstruct?${params}`, { method: "POST", body: form });
      const bytes = await response.arrayBuffer();
      const stem = file.name.replace(/\.[^.]*$/, "") || "clip";
      const h = (name) => response.headers.get(name);
      const cards = await Promise.all([
        resultCard({
          title: `Original: ${file.name}`,
          bytes: original,
          type: file.type || "audio/wav",
          filename: file.name,
          facts: [`${(original.byteLength / 1024).toFixed(0)} KB`],
          autoplay: false,
          kind: "original",
        }),
        resultCard({
          title: `Reconstruction (${PHASE_NAMES[phase]})`,
          bytes,
          type: h("content-type") || "audio/wav",
          filename: `${stem}-reconstructed-${phase}.wav`,
          facts: [`phase ${h("x-phase")}`, `${Number(h("x-duration-seconds")).toFixed(2)} s at ${h("x-sample-rate")} Hz`],
          autoplay: true,
          kind: "reconstruction",
        }),
      ]);
      if (mine !== reconstruction) return;
      replaceResults(recResult, cards);
      demo.results.push({ kind: "reconstruction", phase, sha256: cards[1].dataset.sha256 });
      setStatus(recStatus, `Reconstructed ${file.name} (${PHASE_NAMES[phase]}).`);
    } catch (err) {
      if (mine === reconstruction) setStatus(recStatus, `Could not reconstruct ${file.name}: ${err.message}`, true);
    } finally {
      if (mine === reconstruction) recResult.removeAttribute("aria-busy");
    }
  });

  // Recording: MediaRecorder gives webm/opus (or mp4), which the service's libsndfile cannot
  // read, so the page decodes it with Web Audio and sends a PCM16 WAV instead.
  const canRecord =
    window.isSecureContext && navigator.mediaDevices && navigator.mediaDevices.getUserMedia &&
    window.MediaRecorder && (window.OfflineAudioContext || window.webkitOfflineAudioContext);
  if (!canRecord) {
    recordButton.disabled = true;
    $("record-help").textContent = window.isSecureContext
      ? "Recording is not available in this browser; upload a file instead."
      : "Recording needs a secure page (https or localhost); upload a file instead.";
  }
  let recorder = null;
  let stopTimer = null;

  recordButton.addEventListener("click", async () => {
    if (recorder) {
      recorder.stop();
      return;
    }
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (err) {
      setStatus(recStatus, `No microphone: ${err.message}`, true);
      return;
    }
    const chunks = [];
    recorder = new MediaRecorder(stream);
    recorder.addEventListener("dataavailable", (e) => e.data.size && chunks.push(e.data));
    recorder.addEventListener("stop", async () => {
      clearTimeout(stopTimer);
      stream.getTracks().forEach((t) => t.stop());
      recorder = null;
      recordButton.textContent = "Record";
      recordButton.setAttribute("aria-pressed", "false");
      try {
        const blob = new Blob(chunks, { type: chunks[0] ? chunks[0].type : "" });
        const { samples, rate } = await decodeWithWebAudio(await blob.arrayBuffer());
        recorded = new File([encodeWav(samples, rate)], "recording.wav", { type: "audio/wav" });
        fileInput.value = "";
        setStatus(recStatus, `Recorded ${(samples.length / rate).toFixed(1)} s. Press Reconstruct.`);
      } catch (err) {
        setStatus(recStatus, `Could not use the recording (${err.message}); upload a WAV file instead.`, true);
      }
    });
    recorder.start();
    recordButton.textContent = "Stop recording";
    recordButton.setAttribute("aria-pressed", "true");
    setStatus(recStatus, "Recording… say one digit.");
    stopTimer = setTimeout(() => recorder && recorder.stop(), 3000);
  });

  // ---------- Voices ----------

  const voiceSelect = $("voice");

  function voiceName(id) {
    const option = [...voiceSelect.options].find((o) => o.value === id);
    return option ? option.textContent : id;
  }

  function addVoice(id, text) {
    const option = document.createElement("option");
    option.value = id;
    option.textContent = text;
    voiceSelect.append(option);
    return option;
  }

  async function loadVoices() {
    try {
      const body = await (await request("/v1/voices")).json();
      for (const v of body.voices) addVoice(v.id, `${v.name} (${Math.round(v.f0_hz)} Hz)`);
    } catch (err) {
      $("voice-help").textContent = `Could not list the voices: ${err.message}`;
    }
  }

  $("make-voice").addEventListener("click", async () => {
    const file = fileInput.files[0] || recorded;
    if (!file) {
      setStatus(recStatus, "Choose an audio file (or record one) first.", true);
      fileInput.focus();
      return;
    }
    const form = new FormData();
    form.append("file", file, file.name);
    setStatus(recStatus, `Making a voice from ${file.name}…`);
    try {
      const made = await (await request("/v1/voices", { method: "POST", body: form })).json();
      const n = demo.voices.length + 1;
      const hz = Math.round(made.f0_hz);
      const option = addVoice(made.id, `Your voice ${n}: ${file.name} (${hz} Hz)`);
      voiceSelect.value = option.value;
      demo.voices.push(made);
      demo.results.push({ kind: "voice", id: made.id, f0_hz: made.f0_hz, heard: made.heard.digits.join("") });
      setStatus(
        recStatus,
        `Made “Your voice ${n}” from ${file.name}: heard ${made.heard.digits.join(", ")} at ${hz} Hz` +
          (made.nearest ? `, nearest the built-in voice ${made.nearest}. ` : ". ") +
          "It is chosen under Voice above: type a number there and press Speak it."
      );
    } catch (err) {
      setStatus(recStatus, `Could not make a voice from ${file.name}: ${err.message}`, true);
    }
  });

  // ---------- The model ----------

  const LABELS = {
    id: "Bundle id", name: "Name", kind: "Architecture", conditional: "Digit-conditional",
    latent_dim: "Latent size", parameters: "Parameters", dataset: "Data set", split: "Split",
    epochs: "Epochs", best_epoch: "Best epoch", clips: "Clips", losses: "Loss (BCE + KL per clip)",
    sample_rate: "Sample rate (Hz)", clip_samples: "Clip samples", n_fft: "FFT size",
    hop_length: "Hop", top_db: "Floor (dB below peak)",
  }; // prettier-ignore
  const label = (key) => LABELS[key] || key.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());

  function formatValue(value) {
    if (typeof value === "number") {
      if (Number.isInteger(value)) return value.toLocaleString("en");
      return Math.abs(value) >= 100 ? value.toFixed(1) : String(Number(value.toPrecision(3)));
    }
    if (typeof value === "boolean") return value ? "yes" : "no";
    if (value === null || value === undefined) return "–";
    return String(value);
  }

  // Any JSON value as nested definition lists: the evaluation section has no fixed shape.
  function describe(value) {
    if (value === null || typeof value !== "object") {
      const span = document.createElement("span");
      span.textContent = formatValue(value);
      return span;
    }
    if (Array.isArray(value) && value.every((v) => v === null || typeof v !== "object")) {
      const span = document.createElement("span");
      span.textContent = value.map(formatValue).join(", ") || "–";
      return span;
    }
    const dl = document.createElement("dl");
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i + 1), v]) : Object.entries(value);
    for (const [key, inner] of entries) {
      const dt = document.createElement("dt");
      dt.textContent = label(key);
      const dd = document.createElement("dd");
      dd.append(describe(inner));
      dl.append(dt, dd);
    }
    return dl;
  }

  function section(title, value) {
    const wrap = document.createElement("div");
    wrap.className = "model-part";
    const h = document.createElement("h3");
    h.textContent = title;
    wrap.append(h, describe(value));
    return wrap;
  }

  async function loadModel() {
    const box = $("model-info");
    try {
      const response = await request("/v1/model");
      const meta = await response.json();
      demo.model = meta;
      const m = meta.model || {};
      const t = meta.training || {};
      const summary = document.createElement("p");
      summary.className = "model-summary";
      summary.textContent =
        `Serving “${meta.name || meta.id}”: a${m.conditional ? " digit-conditional" : "n"} ` +
        `${(m.kind || "").toUpperCase()} VAE with a ${m.latent_dim}-dimensional latent space and ` +
        `${formatValue(m.parameters)} parameters, trained on ${t.dataset || "?"} ` +
        `for ${t.epochs || "?"} epochs.`;
      const evaluation = meta.evaluation && Object.keys(meta.evaluation).length
        ? section("Evaluation", meta.evaluation)
        : Object.assign(document.createElement("p"), {
            textContent: "This bundle carries no evaluation figures yet.",
            className: "model-part",
          });
      const { config, ...model } = m;
      const training = Object.fromEntries(
        Object.entries(t).filter(([k]) => !["data_path", "versions", "history"].includes(k))
      );
      const parts = [summary, evaluation, section("Model", { id: meta.id, ...model }), section("Training", training)];
      if (meta.data_credit) {
        const credit = document.createElement("p");
        credit.className = "credit";
        credit.textContent = meta.data_credit;
        parts.push(credit);
      }
      box.replaceChildren(...parts);
      $("rec-digit-field").hidden = !m.conditional;
    } catch (err) {
      box.replaceChildren(
        Object.assign(document.createElement("p"), {
          className: "status error",
          textContent: `Could not load the model's description: ${err.message}`,
        })
      );
    }
  }

  loadModel();
  loadVoices();
})();
