// The bundle's metadata (GET /v1/model) as the figures a visitor cares about, with plain
// names: each list is [plain name, text] rows, and a figure the bundle lacks is left out.

const KINDS = { mlp: "fully connected VAE", conv: "convolutional VAE", cvae: "convolutional VAE" };
const DATASETS = { fsdd: "Free Spoken Digit Dataset", "speech-commands-digits": "Speech Commands digits" };
const AUGMENTS = { pitch: "pitch", formant: "formants", tempo: "tempo", gain_db: "loudness",
  snr_db: "noise", rt60: "reverb" }; // prettier-ignore

const get = (value, path) => path.split(".").reduce((v, key) => (v == null ? undefined : v[key]), value);
const isNumber = (x) => typeof x === "number" && Number.isFinite(x);
const rows = (pairs) => pairs.filter(([, text]) => text !== undefined && text !== null && text !== "");

// 1168353 -> "1,168,353"; 0.4137 -> "0.414"; 140.147 -> "140.1".
export function formatNumber(x) {
  if (Number.isInteger(x)) return x.toLocaleString("en");
  return Math.abs(x) >= 100 ? x.toFixed(1) : String(Number(x.toPrecision(3)));
}
const pct = (x) => (isNumber(x) ? `${Number((x * 100).toFixed(1))}%` : undefined);
const hz = (x) => (isNumber(x) ? `${Math.round(x)} Hz` : undefined);
const plural = (n, one, many) => `${formatNumber(n)} ${n === 1 ? one : many}`;
const names = (list) => (Array.isArray(list) && list.length ? list.join(", ") : undefined);

// "a digit-conditional convolutional VAE"
export function modelKind(model) {
  const kind = KINDS[model.kind] || `${String(model.kind || "").toUpperCase()} VAE`.trim();
  const name = (model.conditional ? "digit-conditional " : "") + kind;
  return `${/^[aeiou]/i.test(name) ? "an" : "a"} ${name}`;
}

// "Free Spoken Digit Dataset (fsdd)": the plain name, and the name the bundle uses
// ("the ..." in a sentence).
export function datasetName(id, inSentence = false) {
  if (!id) return "?";
  return DATASETS[id] ? `${inSentence ? "the " : ""}${DATASETS[id]} (${id})` : id;
}

export function epochsRun(training) {
  return training.epochs_run || training.epochs;
}

export function modelFacts(meta) {
  const m = meta.model || {};
  const c = meta.contract || {};
  const sound = isNumber(c.sample_rate) && isNumber(c.clip_samples)
    ? `${formatNumber(c.clip_samples / c.sample_rate)} s clips at ${formatNumber(c.sample_rate)} Hz` +
      (isNumber(c.band_hz) ? `; it models the band up to ${formatNumber(c.band_hz / 1000)} kHz` : "")
    : undefined;
  return rows([
    ["Bundle", meta.id],
    ["Made on", typeof meta.created === "string" ? meta.created.slice(0, 10) : undefined],
    ["Kind", m.kind && `${modelKind(m).replace(/^an? /, "")} (${m.kind})`],
    ["Latent space", isNumber(m.latent_dim) ? plural(m.latent_dim, "number", "numbers") + " per clip" : undefined],
    ["Parameters", isNumber(m.parameters) ? formatNumber(m.parameters) : undefined],
    ["Sound", sound],
  ]);
}

export function trainingFacts(t) {
  const clips = t.clips || {};
  const extra = (t.extra_data || []).map((d) => String(Array.isArray(d) ? d[0] : d).split("/").pop());
  const augment = t.augment || {};
  const changes = [...new Set(Object.keys(augment.ranges || {}).map((k) => AUGMENTS[k]).filter(Boolean))];
  const classifier = t.classifier || {};
  return rows([
    ["Data", t.dataset && datasetName(t.dataset) + (extra.length ? `, with ${extra.join(", ")}` : "")],
    ["Clips", isNumber(clips.train)
      ? `${formatNumber(clips.train)} to learn from` +
        (isNumber(clips.val) ? `, ${formatNumber(clips.val)} to watch progress` : "") +
        (isNumber(clips.test) ? `, ${formatNumber(clips.test)} kept for the tests` : "")
      : undefined],
    ["Speakers kept out", t.split === "speaker" ? names(t.test_speakers) && `${names(t.test_speakers)}: never heard in training` : undefined],
    ["Varied copies", isNumber(augment.copies) && augment.copies > 0
      ? `${augment.copies} of each clip` + (changes.length ? `, changing ${changes.join(", ")}` : "")
      : undefined],
    ["Epochs", isNumber(t.epochs_run) && isNumber(t.epochs) && t.epochs_run !== t.epochs
      ? `${t.epochs_run} of ${t.epochs} planned` + (isNumber(t.best_epoch) ? ` (best: ${t.best_epoch})` : "")
      : isNumber(t.epochs) ? String(t.epochs) : undefined],
    ["Training time", isNumber(t.seconds) ? `${Math.round(t.seconds / 60)} minutes` : undefined],
    ["Digit recogniser", isNumber(classifier.test_accuracy)
      ? `${pct(classifier.test_accuracy)} right on test clips; it tells the model which digit an upload says`
      : undefined],
  ]); // prettier-ignore
}

// The evaluation's headline figures; an empty list when the bundle's evaluation has
// another shape (then the page lists whatever it carries).
export function evaluationFigures(ev) {
  const g = ev.generated || {};
  const perDigit = Object.entries(g.per_digit || {})
    .map(([digit, v]) => [digit, isNumber(v) ? v : get(v, "accuracy")])
    .filter(([, v]) => isNumber(v))
    .map(([digit, v]) => `${digit}: ${pct(v)}`);
  const second = ev.second_opinion || {};
  const dnsmos = (path) => get(ev, `naturalness.${path}.dnsmos.ovrl`);
  const pitch = (path) => {
    const [lo, hi] = [get(ev, `naturalness.${path}.median_f0_p5`), get(ev, `naturalness.${path}.median_f0_p95`)];
    return isNumber(lo) && isNumber(hi) ? `${Math.round(lo)}–${hz(hi)}` : undefined;
  };
  const unseen = Object.entries(get(ev, "unseen_voices.sets") || {}).map(([name, set]) => [
    `Voices it never heard: ${name}`,
    isNumber(get(set, "renditions.vocoder.judge"))
      ? `reconstructions ${pct(set.renditions.vocoder.judge)} heard right` +
        (isNumber(get(set, "originals.judge")) ? ` (the originals: ${pct(set.originals.judge)})` : "") +
        (isNumber(set.digit_inference) ? `; their digit recognised in ${pct(set.digit_inference)}` : "")
      : undefined,
  ]);
  return rows([
    ["Generated digits heard right", pct(g.accuracy) && `${pct(g.accuracy)}` +
      (isNumber(g.clips) ? ` of ${formatNumber(g.clips)}` : "") +
      (isNumber(g.min_digit_accuracy) ? ` (worst digit: ${pct(g.min_digit_accuracy)})` : "")],
    ["By digit", perDigit.length ? perDigit.join(" · ") : undefined],
    ["Real recordings heard right", pct(get(ev, "real.accuracy")) &&
      `${pct(ev.real.accuracy)}` + (isNumber(ev.real.clips) ? ` of ${formatNumber(ev.real.clips)}` : "") +
      " (the same listener, for comparison)"],
    ["Reconstructions heard right", pct(get(ev, "reconstruction.accuracy"))],
    ["A second listener (MFCC + SVM)", isNumber(second.generated)
      ? `generated ${pct(second.generated)}` + (isNumber(second.real) ? `, real ${pct(second.real)}` : "") +
        (isNumber(second.reconstruction) ? `, reconstructions ${pct(second.reconstruction)}` : "")
      : undefined],
    ["Speaking in a built-in voice", pct(get(ev, "voice_transfer.seed_voice_accuracy")) &&
      `${pct(ev.voice_transfer.seed_voice_accuracy)} of digits heard right`],
    ...unseen,
    ["Sound quality (DNSMOS, 1 to 5)", isNumber(dnsmos("generated"))
      ? `generated ${formatNumber(dnsmos("generated"))}` +
        (isNumber(dnsmos("real")) ? `, real recordings ${formatNumber(dnsmos("real"))}` : "")
      : undefined],
    ["Pitch range", pitch("generated") && `generated ${pitch("generated")}` +
      (pitch("real") ? `, real recordings ${pitch("real")}` : "")],
  ]); // prettier-ignore
}

// Who listened, and with what settings the clips were made: a line under the figures.
export function evaluationNote(ev) {
  const heldOut = names(get(ev, "judge.test_speakers"));
  const settings = rows([
    ["temperature", isNumber(ev.temperature) ? `temperature ${ev.temperature}` : undefined],
    ["sharpen", isNumber(ev.sharpen) ? `clarity ${ev.sharpen}` : undefined],
    ["vocoder", typeof ev.vocoder === "string" ? `the ${ev.vocoder} vocoder` : undefined],
  ]).map(([, text]) => text);
  return (
    "“Heard right”: the project's own digit recogniser names the intended digit" +
    (heldOut ? ` (it never heard ${heldOut}, the speaker${heldOut.includes(",") ? "s" : ""} kept out)` : "") +
    "." + (settings.length ? ` Clips made with ${settings.join(", ")}.` : "")
  );
}
