"""python -m benchmarks soak --minutes 10   (and, later, the speed benchmark)."""

from __future__ import annotations

import argparse
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    commands = parser.add_subparsers(dest="command", required=True)
    soak = commands.add_parser("soak", help="mixed traffic at ~70 %% of capacity")
    soak.add_argument("--minutes", type=float, default=10.0)
    soak.add_argument("--out", type=Path, default=Path("reports/soak.json"))
    args = parser.parse_args(argv)
    if args.command == "soak":
        from benchmarks.soak import report
        from benchmarks.soak import soak as run_soak

        print(report(run_soak(args.minutes, args.out)))


if __name__ == "__main__":
    main()
