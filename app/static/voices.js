// Voices: the built-in ones (GET /v1/voices) in the "Voice" menu, and voices made from the
// user's clip (POST /v1/voices), added to it and chosen.

import { $, demo } from "./state.js";
import { request, setStatus } from "./http.js";
import { chosenClip, recStatus } from "./clip.js";
import { showLibrary } from "./library.js";

const voiceSelect = $("voice");

// The chosen voice's id; "" for any (the seed picks one).
export const chosenVoice = () => voiceSelect.value;

export function voiceName(id) {
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

export async function loadVoices() {
  try {
    const body = await (await request("/v1/voices")).json();
    for (const v of body.voices) addVoice(v.id, `${v.name} (${Math.round(v.f0_hz)} Hz)`);
    showLibrary(body);
  } catch (err) {
    $("voice-help").textContent = `Could not list the voices: ${err.message}`;
  }
}

export function setupVoiceMaking() {
  $("make-voice").addEventListener("click", () => {
    const file = chosenClip();
    if (file) makeVoice(file);
  });
}

async function makeVoice(file) {
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
}
