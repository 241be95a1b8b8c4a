"""The independent measurements in one call: what an ear (pocketsphinx) and a speaker
encoder (Resemblyzer) that none of our models learned from make of the service's output,
on people no model heard. Needs the `eval` extra; `training evaluate` runs it when that is
installed and the data are at hand, and it runs alone too:

    python -m training.evaluation.independent models/default [--write] [--markdown]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
from pathlib import Path

from app.core.config import Settings
from app.synthesis.custom_voices import VoiceBook
from app.synthesis.synthesizer import Synthesizer
from training.evaluation.heard import Defaults, measure_heard, reconstruct_people
from training.evaluation.independent_report import markdown
from training.evaluation.likeness import measure_likeness
from training.evaluation.people import (
    People,
    concat,
    fsdd_test_takes,
    held_back,
    held_out_speakers,
)

log = logging.getLogger(__name__)

FSDD = Path("../shared/data/fsdd")
MANY = Path("../shared/data/speech-commands-digits")
HELD_OUT_FSDD = "theo"
MARKDOWN = Path("docs/independent.md")  # the FSDD speaker no model trains on


def available() -> bool:
    """The eval extra is installed (pocketsphinx and resemblyzer)."""
    return all(importlib.util.find_spec(m) for m in ("pocketsphinx", "resemblyzer"))


def held_out_sets(fsdd_test: People, many: Path | None) -> dict[str, People]:
    sets = {HELD_OUT_FSDD: fsdd_test.of(HELD_OUT_FSDD)}
    if many is not None and (many / "split.json").is_file():
        sets["many-speaker test split"] = held_out_speakers(many)
    return {name: people for name, people in sets.items() if len(people)}


def voices_held_back(synth: Synthesizer, fsdd_test: People, many: Path | None) -> People:
    if many is None or not (many / "recordings").is_dir():
        return fsdd_test
    return concat([fsdd_test, held_back(synth.folder, many)])


def measure_independent(
    synth: Synthesizer, fsdd: Path, many: Path | None, seed: int = 0, clips: int = 400
) -> dict:
    """Both instruments at the service's defaults (Settings: environment and .env)."""
    settings = Settings()
    at = Defaults(settings.temperature, settings.gl_iters, settings.sharpen, seed)
    book = VoiceBook(synth, b"independent-measurement", settings.voice_spread,
                     settings.voice_residual)  # fmt: skip
    fsdd_test = fsdd_test_takes(fsdd)
    sets = held_out_sets(fsdd_test, many)
    # /reconstruct of the held-out people, made once: heard by the ear, and likened to them.
    rendered = {name: reconstruct_people(synth, people, at) for name, people in sets.items()}
    return {
        "settings": {
            "temperature": at.temperature,
            "gl_iters": at.gl_iters,
            "sharpen": at.sharpen,
            "seed": seed,
        },  # fmt: skip
        "heard": measure_heard(synth, fsdd_test, sets, at, clips, rendered),
        # Built-in voices against their speakers' clips no voice was fitted on: FSDD's test
        # takes, and the many-speaker voices' held-back halves.
        "likeness": measure_likeness(
            synth, book, sets, voices_held_back(synth, fsdd_test, many), at, rendered
        ),  # fmt: skip
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m training.evaluation.independent",
                                     description=__doc__)  # fmt: skip
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--fsdd", type=Path, default=FSDD)
    parser.add_argument("--many", type=Path, default=MANY)
    parser.add_argument("--clips", type=int, default=400, help="generated digits to hear")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--write", action="store_true", help="into evaluation.independent")
    parser.add_argument("--markdown", type=Path, nargs="?", const=MARKDOWN, default=None,
                        help=f"the tables, to this file (default {MARKDOWN})")  # fmt: skip
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    synth = Synthesizer(args.bundle, threads=2, gl_hop=Settings().gl_hop)
    result = measure_independent(synth, args.fsdd, args.many, args.seed, args.clips)
    print(json.dumps(result, indent=1, default=float))
    if args.markdown is not None:
        args.markdown.write_text(markdown(result, str(args.bundle)))
    if args.write:
        from app.synthesis.bundle import write_meta

        synth.meta.evaluation = {**(synth.meta.evaluation or {}), "independent": result}
        write_meta(args.bundle, synth.meta)
    return result


if __name__ == "__main__":
    main()
