// The voice library: every built-in voice (GET /v1/voices) with its name, description and
// pitch, to hear in a short number or to choose for the digits above.

import { $, demo } from "./state.js";
import { request, setStatus } from "./http.js";
import { replaceResults, resultCard } from "./cards.js";

const SAMPLE = "2468"; // a short number, four different words, to hear a voice by
const list = $("library-list");
const status = $("library-status");
const result = $("library-result");

export function showLibrary(body) {
  $("library-credit").textContent = body.credit || "";
  const sorted = [...body.voices].sort((a, b) => a.f0_hz - b.f0_hz);
  for (const v of sorted) {
    const item = document.createElement("li");
    item.className = "voice";
    item.dataset.voice = v.id;
    const name = document.createElement("strong");
    name.textContent = v.name;
    const about = document.createElement("span");
    about.textContent = v.description || `median pitch ${Math.round(v.f0_hz)} Hz`;
    const hear = document.createElement("button");
    hear.type = "button";
    hear.textContent = "Hear";
    hear.setAttribute("aria-label", `Hear ${v.name} say ${SAMPLE}`);
    hear.addEventListener("click", () => hearVoice(v));
    const use = document.createElement("button");
    use.type = "button";
    use.textContent = "Use";
    use.setAttribute("aria-label", `Use ${v.name} for the digits above`);
    use.addEventListener("click", () => {
      $("voice").value = v.id;
      setStatus(status, `${v.name} is chosen under Voice above.`);
    });
    item.append(name, " ", about, " ", hear, " ", use);
    list.append(item);
  }
}

async function hearVoice(v) {
  setStatus(status, `${v.name} is saying ${SAMPLE}…`);
  try {
    const params = new URLSearchParams({ digits: SAMPLE, voice: v.id, seed: "1" });
    const response = await request(`/generate?${params}`, { method: "POST" });
    const card = await resultCard({
      title: `${v.name}: ${SAMPLE}`,
      bytes: await response.arrayBuffer(),
      type: "audio/wav",
      filename: `voice-${v.id}-${SAMPLE}.wav`,
      facts: [v.description, `voice id ${v.id}`],
      autoplay: true,
      kind: "library",
    });
    card.dataset.voice = v.id;
    replaceResults(result, [card]);
    demo.results.push({ kind: "library", voice: v.id, sha256: card.dataset.sha256 });
    setStatus(status, `Here is ${v.name}.`);
  } catch (err) {
    setStatus(status, `Could not play ${v.name}: ${err.message}`, true);
  }
}
