"""python -m benchmarks run    (speed)     python -m benchmarks soak --minutes 10
python -m benchmarks speech  (the OpenAI route's rows alone, on a fresh serve command)"""

from __future__ import annotations

import argparse
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    commands = parser.add_subparsers(dest="command", required=True)
    soak = commands.add_parser("soak", help="mixed traffic at ~70 %% of capacity")
    soak.add_argument("--minutes", type=float, default=10.0)
    soak.add_argument("--out", type=Path, default=Path("reports/soak.json"))
    run = commands.add_parser("run", help="the speed benchmark (Markdown table + JSON)")
    run.add_argument("--requests", type=int, default=200, help="requests per httpx run")
    run.add_argument("--repeats", type=int, default=20, help="repeats per in-process figure")
    run.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16, 64])
    run.add_argument(
        "--workers",
        type=int,
        nargs="+",
        default=[0],
        help="worker processes of each server (python -m app.serve); 0: its default, one per core",
    )
    run.add_argument("--out", type=Path, default=Path("reports/bench.json"))
    run.add_argument(
        "--load",
        choices=["auto", "wrk", "httpx"],
        default="auto",
        help="/generate load generator: wrk when installed (auto), or the async httpx client",
    )
    run.add_argument("--seconds", type=float, default=10.0, help="seconds per wrk run")
    speech = commands.add_parser("speech", help="the OpenAI route's first-byte and cost rows")
    speech.add_argument("--repeats", type=int, default=20, help="requests per figure")
    args = parser.parse_args(argv)
    if args.command == "speech":
        from benchmarks.openai_speech import markdown as speech_markdown
        from benchmarks.openai_speech import speech_rows
        from benchmarks.server import REPO, Server

        server = Server(REPO / "models" / "default", serve_command=True)
        try:
            server.wait_ready()
            server.wait_workers(len(server.workers()))
            print("\n".join(speech_markdown(speech_rows(server.url, args.repeats))))
        finally:
            server.stop()
    if args.command == "run":
        from benchmarks.report import markdown
        from benchmarks.speed import run as run_bench

        result = run_bench(
            concurrencies=args.concurrency, requests=args.requests, repeats=args.repeats,
            workers=args.workers, out=args.out, load=args.load, seconds=args.seconds,
        )  # fmt: skip
        print(markdown(result))
    if args.command == "soak":
        from benchmarks.soak import report
        from benchmarks.soak import soak as run_soak

        print(report(run_soak(args.minutes, args.out)))


if __name__ == "__main__":
    main()
