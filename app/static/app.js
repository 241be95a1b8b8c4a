// The demo page: plain JavaScript modules, no build step, no other origin. This entry wires
// the parts together; each module is one concern of the page:
//   generate.js     Hear a digit: buttons, keys 0-9, a typed number (POST /generate)
//   clip.js         the user's clip: a chosen file or a microphone recording
//   reconstruct.js  Reconstruct your own clip (POST /reconstruct)
//   voices.js       the Voice menu (GET /v1/voices) and voices made from a clip (POST)
//   model.js        the model card (GET /v1/model), its figures named in figures.js
//   cards.js        a result: player, spectrogram (spectrogram.js), facts, download
//   http.js, wav.js, stream.js, state.js: requests (and the API key), WAV in and out,
//   streamed playback,
//   and what the page did (window.audioVaeDemo, which the browser tests read).

import { demo } from "./state.js";
import { setupKey } from "./http.js";
import { setupGeneration } from "./generate.js";
import { setupClip } from "./clip.js";
import { setupReconstruction, showDigitMenu } from "./reconstruct.js";
import { loadVoices, setupVoiceMaking } from "./voices.js";
import { loadModel } from "./model.js";

window.audioVaeDemo = demo;
setupKey();
setupGeneration();
setupClip();
setupReconstruction();
setupVoiceMaking();
loadModel().then((meta) => showDigitMenu(Boolean(meta && meta.model && meta.model.conditional)));
loadVoices();
