// The clip the user gives: a file they choose, or a recording from the microphone.
// Reconstruction and "make a voice" both send it.

import { $ } from "./state.js";
import { setStatus } from "./http.js";
import { decodeWithWebAudio, encodeWav } from "./wav.js";

export const recStatus = $("rec-status");
const fileInput = $("file");
const recordButton = $("record");
let recorded = null; // a WAV File made from the microphone, used when no file is chosen

// The chosen file, else the last recording; null (and says so) when there is neither.
export function chosenClip() {
  const file = fileInput.files[0] || recorded;
  if (!file) {
    setStatus(recStatus, "Choose an audio file (or record one) first.", true);
    fileInput.focus();
  }
  return file || null;
}

export function setupClip() {
  fileInput.addEventListener("change", () => {
    recorded = null;
    if (fileInput.files.length) setStatus(recStatus, `Chosen: ${fileInput.files[0].name}. Press Reconstruct.`);
  });
  setupRecording();
}

// Recording: MediaRecorder gives webm/opus (or mp4), which the service's libsndfile cannot
// read, so the page decodes it with Web Audio and sends a PCM16 WAV instead.
function setupRecording() {
  const canRecord =
    window.isSecureContext && navigator.mediaDevices && navigator.mediaDevices.getUserMedia &&
    window.MediaRecorder && (window.OfflineAudioContext || window.webkitOfflineAudioContext);
  if (!canRecord) {
    recordButton.disabled = true;
    $("record-help").textContent = window.isSecureContext
      ? "Recording is not available in this browser; upload a file instead."
      : "Recording needs a secure page (https or localhost); upload a file instead.";
    return;
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
}
