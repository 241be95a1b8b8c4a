"""The independent measurements (training/evaluation/independent.py) as Markdown: the
tables docs/independent.md holds, written by code so that they are the run's own figures."""

from __future__ import annotations


def _f(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _x(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def heard_tables(heard: dict) -> list[str]:
    real, gen = heard["real"], heard["generated"]
    digits = sorted(real["per_digit"], key=int)
    lines = [
        "| pocketsphinx hears | accuracy | against real |",
        "|---|---|---|",
        f"| real FSDD test takes (takes 0-4, six speakers) | {_f(real['accuracy'])} | |",
        f"| {gen['clips']} generated digits, service defaults | {_f(gen['accuracy'])} | "
        f"{_x(gen['ratio'])} |",
    ]
    for name, row in heard["reconstruction"].items():
        lines.append(f"| /reconstruct of {name} ({row['clips']} clips, {row['speakers']} "
                     f"speakers) | {_f(row['reconstructed'])} | {_x(row['ratio'])} of their "
                     f"originals' {_f(row['originals'])} |")  # fmt: skip
    lines += ["", "| digit | " + " | ".join(digits) + " |",
              "|---|" + "---|" * len(digits),
              "| real | " + " | ".join(_f(real["per_digit"][d]) for d in digits) + " |",
              "| generated | " + " | ".join(_f(gen["per_digit"][d]) for d in digits) + " |",
              "| ratio | " + " | ".join(_x(gen["per_digit_ratio"][d]) for d in digits) + " |",
              "", "| built-in voice | heard | its speaker's real takes | ratio |",
              "|---|---|---|---|"]  # fmt: skip
    for vid, row in gen["per_voice"].items():
        whose = row["speaker"] or "everyone's: no takes of its own"
        lines.append(f"| {vid} | {_f(row['accuracy'])} | {_f(row['reference'])} ({whose}) | "
                     f"{_x(row['ratio'])} |")  # fmt: skip
    return lines


def likeness_tables(likeness: dict) -> list[str]:
    rows = [("a speaker's other clips", "real_same"), ("a different real speaker", "real_other"),
            ("their own magnitudes through the vocoder (no model)", "no_model"),
            ("/reconstruct", "reconstruct"), ("a voice made from one clip, other digits",
                                              "made_voice")]  # fmt: skip
    sets = likeness["held_out"]
    lines = ["| speaker-encoder cosine against a speaker's held-back clips | "
             + " | ".join(f"{name} ({row['speakers']} speakers)" for name, row in sets.items())
             + " |", "|---|" + "---|" * len(sets)]  # fmt: skip
    for label, key in rows:
        lines.append(f"| {label} | " + " | ".join(_f(row[key]) for row in sets.values()) + " |")
    built = likeness["builtin_voices"]
    if built.get("voices"):
        lines += ["", f"Built-in voices with held-back takes ({built['voices']}): against "
                  f"their own speaker {_f(built['own'])}, against the other voices' speakers "
                  f"{_f(built['others'])} (highest {_f(built['others_max'])})."]  # fmt: skip
    return lines


def criteria_lines(criteria: dict[str, bool]) -> list[str]:
    return [f"- {'met' if ok else '**not met**'}: {name}" for name, ok in criteria.items()]


def markdown(result: dict, bundle: str) -> str:
    s = result["settings"]
    out = [
        "# Heard by instruments we did not train",
        "",
        f"Written by `python -m training.evaluation.independent {bundle} --markdown` (and by "
        "`training evaluate`); do not edit by hand. The service's defaults: temperature "
        f"{s['temperature']:g}, post-filter {s['sharpen']:g}, seed {s['seed']}.",
        "",
        f"Intelligibility: {result['heard']['instrument']}.",
        "",
        *heard_tables(result["heard"]),
        "",
        *criteria_lines(result["heard"]["criteria"]),
        "",
        f"Speaker identity: {result['likeness']['instrument']}, on people no model heard.",
        "",
        *likeness_tables(result["likeness"]),
        "",
        *criteria_lines(result["likeness"]["criteria"]),
        "",
    ]
    return "\n".join(out)
