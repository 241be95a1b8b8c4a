// The model card: what GET /v1/model says about the model being served, in plain words.

import { $, demo } from "./state.js";
import { request } from "./http.js";
import {
  datasetName, epochsRun, evaluationFigures, evaluationNote, formatNumber, modelFacts, modelKind,
  trainingFacts,
} from "./figures.js"; // prettier-ignore

const el = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
};

// [plain name, text] rows as a definition list.
function factList(rows) {
  return el("dl", {}, ...rows.flatMap(([name, text]) => [el("dt", { textContent: name }), el("dd", { textContent: text })]));
}

function part(title, ...children) {
  return el("div", { className: "model-part" }, el("h3", { textContent: title }), ...children);
}

// An evaluation of another shape than today's: whatever it carries, as nested lists under
// plain-ish names ("per_digit" -> "Per digit"), checksums left out.
const plainName = (key) => key.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());

function formatValue(value) {
  if (typeof value === "number") return formatNumber(value);
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (value === null || value === undefined) return "–";
  return String(value);
}

function describe(value) {
  if (value === null || typeof value !== "object") return el("span", { textContent: formatValue(value) });
  if (Array.isArray(value) && value.every((v) => v === null || typeof v !== "object")) {
    return el("span", { textContent: value.map(formatValue).join(", ") || "–" });
  }
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i + 1), v]) : Object.entries(value);
  return el("dl", {}, ...entries
    .filter(([key]) => !/sha256/i.test(key))
    .flatMap(([key, inner]) => [el("dt", { textContent: plainName(key) }), el("dd", {}, describe(inner))])
  ); // prettier-ignore
}

function evaluationPart(ev) {
  if (!ev || !Object.keys(ev).length) {
    return el("p", { className: "model-part", textContent: "This bundle carries no evaluation figures yet." });
  }
  const figures = evaluationFigures(ev);
  if (!figures.length) return part("Evaluation", describe(ev));
  return part(
    "Evaluation: how well it is understood",
    factList(figures),
    el("p", { className: "credit", textContent: evaluationNote(ev) })
  );
}

function summary(meta) {
  const m = meta.model || {};
  const t = meta.training || {};
  return el("p", {
    className: "model-summary",
    textContent:
      `Serving “${meta.name || meta.id}”: ${modelKind(m)} with a ${m.latent_dim}-dimensional latent ` +
      `space and ${formatValue(m.parameters)} parameters, trained on ${datasetName(t.dataset, true)} ` +
      `for ${epochsRun(t) || "?"} epochs.`,
  });
}

// Shows the card; returns the metadata (null when the service could not say).
export async function loadModel() {
  const box = $("model-info");
  try {
    const meta = await (await request("/v1/model")).json();
    demo.model = meta;
    const parts = [
      summary(meta),
      evaluationPart(meta.evaluation),
      part("The model", factList(modelFacts(meta))),
      part("Training", factList(trainingFacts(meta.training || {}))),
    ];
    if (meta.data_credit) parts.push(el("p", { className: "credit", textContent: meta.data_credit }));
    box.replaceChildren(...parts);
    return meta;
  } catch (err) {
    box.replaceChildren(
      el("p", { className: "status error", textContent: `Could not load the model's description: ${err.message}` })
    );
    return null;
  }
}
