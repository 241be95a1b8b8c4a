"""The speed benchmark's result (benchmarks/speed.py) as Markdown tables (docs/performance.md)."""

from __future__ import annotations

from benchmarks.openai_speech import markdown as speech_markdown
from benchmarks.speed import SEED_GL_ITERS


def markdown(result: dict) -> str:
    m = result["machine"]
    lines = [
        f"Machine: {m['cores']} cores, {m['cpu']}; Python {m['python']}; "
        + ", ".join(f"{k} {v}" for k, v in m["versions"].items() if v),
        "",
        "| path | figure |",
        "|---|---|",
    ]
    seed = result["seed_stack"]
    seed_text = f"{seed['digit_ms']} ms" if "digit_ms" in seed else f"skipped: {seed['skipped']}"
    lines.append(
        f"| seed stack: study MLP Keras predict + librosa.griffinlim 32, one digit | {seed_text} |"
    )
    for name, row in result["in_process"].items():
        lines.append(
            f"| in-process {name}, {_inversion(row)} | {row['total_ms']} ms "
            f"(decode {row['decode_ms']}, "
            f"inversion {row['inversion_ms']}, encoding {row['encoding_ms']}) |"
        )
    lines.append(
        f"| speed-up vs seed stack, same digit, both GL {SEED_GL_ITERS} "
        f"| {result['speedup_vs_seed_stack']}x |"
    )
    default = _inversion(result["in_process"]["digit"])
    lines.append(
        f"| speed-up vs seed stack at the service's default ({default}) "
        f"| {result['speedup_at_service_default']}x |"
    )
    for fmt, row in result["encode"].items():
        lines.append(
            f"| encode {fmt}, {row['audio_s']} s of audio at {row['rate']} Hz | "
            f"{row['encode_ms']} ms ({row['x_realtime']}x real time, {row['kbit_s']} kbit/s) |"
        )
    for http in result["http"]:
        w = f"{http['workers']}{' = one per core, the default' if http['serve_default'] else ''}"
        lines.append(f"| cold start to /readyz ({w} workers) | {http['cold_start_s']} s |")
        lines.append(f"| load generator ({w} workers) | {http['load_generator']} |")
        lines.append(
            f"| resident memory per worker, warm / after load | {http['rss_mb_per_worker_warm']} / "
            f"{http['rss_mb_per_worker_after_load']} MB |"
        )
    first = next((h["first_and_last_byte"] for h in result["http"] if h["first_and_last_byte"]), {})
    if first:
        lines += [
            "",
            "| digits | response | first audio byte ms | last byte ms | first / last |",
            "|---|---|---|---|---|",
        ]
        for row in first.values():
            kind = "streamed" if row["streamed"] else "whole"
            lines.append(
                f"| {row['digits']} | {kind} | {row['first_audio_ms']} | {row['last_byte_ms']} "
                f"| {row['first_over_last']} |"
            )
    speech = next((h["openai_speech"] for h in result["http"] if h.get("openai_speech")), None)
    if speech:
        lines += speech_markdown(speech)
    lines += [
        "",
        "| workers | run | requests | ok | 503 | unexpected | req/s "
        "| p50 ms | p95 ms | p99 ms | RTF |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for http in result["http"]:
        for name, r in http["runs"].items():
            lines.append(
                f"| {http['workers']} | {name} | {r['requests']} | {r['ok']} | {r['rejected_503']} "
                f"| {r['unexpected']} | {r['rps']} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} "
                f"| {r['rtf']} |"
            )
    return "\n".join(lines)


def _inversion(row: dict) -> str:
    vocoder = row.get("vocoder", "griffinlim")
    return f"GL {row['gl_iters']}" if vocoder == "griffinlim" else vocoder
