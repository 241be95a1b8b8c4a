// The spectrogram drawn under each clip: an STFT like the model's, in a magma-like ramp.

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

export function drawSpectrogram(canvas, samples, rate) {
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
