// Result cards: a clip's title, player, spectrogram, facts and download link.

import { decodeAudio } from "./wav.js";
import { drawSpectrogram } from "./spectrogram.js";

export async function sha256(buffer) {
  if (window.crypto && crypto.subtle) {
    const digest = await crypto.subtle.digest("SHA-256", buffer);
    return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  }
  // Not a secure context (e.g. a LAN address over http): FNV-1a, enough to tell clips apart.
  let h = 0x811c9dc5;
  for (const b of new Uint8Array(buffer)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return "fnv1a-" + h.toString(16).padStart(8, "0");
}


// A card: title, <audio controls>, spectrogram, facts and a download link.
export async function resultCard({ title, bytes, type, filename, facts, autoplay, kind }) {
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

export function replaceResults(container, cards) {
  for (const old of container.querySelectorAll(".result")) {
    if (old._url) URL.revokeObjectURL(old._url);
  }
  container.replaceChildren(...cards);
}
