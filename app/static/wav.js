// WAV in and out: reading what the user gives or the service sends, writing what it reads.

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
export function decodeWithWebAudio(buffer) {
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

export async function decodeAudio(buffer) {
  return parseWav(buffer) || decodeWithWebAudio(buffer);
}

export function encodeWav(samples, rate) {
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
export function wavFromPcm(pcm, rate) {
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
