// Reconstruct your own clip: send it to POST /reconstruct and play it beside the original.

import { $, demo } from "./state.js";
import { request, setStatus } from "./http.js";
import { replaceResults, resultCard } from "./cards.js";
import { chosenClip, recStatus } from "./clip.js";

const PHASE_NAMES = { vocoder: "vocoder at your pitch", original: "original phase", griffinlim: "Griffin-Lim" };
const recResult = $("rec-result");
const digitField = $("rec-digit-field");
const digitMenu = $("rec-digit");
let reconstruction = 0; // a newer request wins over a slower older one

// A digit-conditional model is told which digit it hears: by its own recogniser unless the
// user picks one from the menu (shown only for such a model).
export function showDigitMenu(conditional) {
  digitField.hidden = !conditional;
}

export function setupReconstruction() {
  $("rec-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const file = chosenClip();
    if (file) reconstruct(file);
  });
}

async function reconstruct(file) {
  const mine = ++reconstruction;
  const phase = document.querySelector('input[name="phase"]:checked').value;
  const params = new URLSearchParams({ phase });
  // No digit: the service infers it (its digit recogniser hears the clip).
  if (!digitField.hidden && digitMenu.value !== "") params.set("digit", digitMenu.value);
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
        facts: [
          `phase ${h("x-phase")}`,
          digitField.hidden ? "" : params.has("digit") ? `told digit ${params.get("digit")}` : "digit heard by the model",
          `${Number(h("x-duration-seconds")).toFixed(2)} s at ${h("x-sample-rate")} Hz`,
        ],
        autoplay: true,
        kind: "reconstruction",
      }),
    ]);
    if (mine !== reconstruction) return;
    replaceResults(recResult, cards);
    demo.results.push({ kind: "reconstruction", phase, digit: params.get("digit"), sha256: cards[1].dataset.sha256 });
    setStatus(recStatus, `Reconstructed ${file.name} (${PHASE_NAMES[phase]}).`);
  } catch (err) {
    if (mine === reconstruction) setStatus(recStatus, `Could not reconstruct ${file.name}: ${err.message}`, true);
  } finally {
    if (mine === reconstruction) recResult.removeAttribute("aria-busy");
  }
}
