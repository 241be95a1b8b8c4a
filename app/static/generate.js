// Hear a digit: the digit buttons (and keys 0-9), "same seed again" and a typed number,
// which streams and plays digit by digit as it is made.

import { $, demo } from "./state.js";
import { request, setStatus } from "./http.js";
import { playStream } from "./stream.js";
import { wavFromPcm } from "./wav.js";
import { replaceResults, resultCard } from "./cards.js";
import { chosenVoice, voiceName } from "./voices.js";

const genStatus = $("gen-status");
const genResult = $("gen-result");
const seedInput = $("seed");
const temperature = $("temperature");
const sharpen = $("sharpen");
const againButton = $("again");
let generation = 0; // a newer click wins over a slower older request

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
  if (chosenVoice()) params.set("voice", chosenVoice());
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

export function setupGeneration() {
  temperature.addEventListener("input", () => {
    $("temperature-value").textContent = Number(temperature.value).toFixed(1);
  });
  sharpen.addEventListener("input", () => {
    $("sharpen-value").textContent = String(Number(sharpen.value));
  });

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
}
