"""The benchmark and soak commands run end to end on a tiny setting (no time is asserted)."""

from __future__ import annotations

import json

import pytest

from benchmarks import wrk
from benchmarks.__main__ import main
from benchmarks.soak import soak


def test_speed_benchmark_runs_and_reports(tmp_path, capsys):
    out = tmp_path / "bench.json"
    main(["run", "--requests", "4", "--repeats", "1", "--concurrency", "1", "2", "--load", "httpx",
          "--out", str(out)])  # fmt: skip
    table = capsys.readouterr().out
    result = json.loads(out.read_text())
    assert result["machine"]["cores"] >= 1
    assert result["seed_stack"]["digit_ms"] > 0  # the train extra is installed in the tests
    assert result["in_process"]["digit"]["inversion_ms"] > 0
    assert (
        result["in_process"]["sequence10"]["total_ms"] > result["in_process"]["digit"]["total_ms"]
    )
    assert result["speedup_vs_seed_stack"] > 0 and result["speedup_at_service_default"] > 0
    # every format's encode cost, for the same audio
    assert set(result["encode"]) == {"wav", "flac", "mp3", "ogg", "mulaw", "pcm"}
    assert all(row["encode_ms"] > 0 for row in result["encode"].values())
    assert result["encode"]["mulaw"]["rate"] == 8000 and result["encode"]["ogg"]["rate"] == 24000
    http = result["http"][0]
    assert http["serve_default"] is True and http["workers"] >= 1  # the default serve command
    runs = http["runs"]
    assert set(runs) == {"generate_c1", "generate_c2", "reconstruct_1s_c1"}
    assert all(r["unexpected"] == 0 and r["ok"] > 0 for r in runs.values())
    assert 0 < http["cold_start_s"] < 60
    first = http["first_and_last_byte"]
    assert set(first) == {f"{n}_digits_{m}" for n in (1, 10, 32) for m in ("whole", "streamed")}
    for row in first.values():
        assert 0 < row["first_audio_ms"] <= row["last_byte_ms"]
    assert f"| {http['workers']} | generate_c1 |" in table
    assert "| 32 | streamed |" in table and "| encode ogg," in table


def test_soak_runs_and_reports(tmp_path):
    result = soak(minutes=0.1, out=tmp_path / "soak.json")
    assert result["overall"]["requests"] > 0
    assert result["overall"]["unexpected"] == 0
    assert result["rss_mb_start"] > 0 and result["rss_mb_end"] > 0
    assert json.loads((tmp_path / "soak.json").read_text())["per_minute"]


@pytest.mark.skipif(not wrk.available(), reason="wrk is not installed (apt-get install wrk)")
def test_speed_benchmark_with_wrk(tmp_path):
    out = tmp_path / "bench.json"
    main(["run", "--repeats", "1", "--requests", "4", "--concurrency", "2", "--load", "wrk",
          "--seconds", "1", "--out", str(out)])  # fmt: skip
    http = json.loads(out.read_text())["http"][0]
    assert http["load_generator"] == "wrk"
    run = http["runs"]["generate_c2"]
    assert run["ok"] > 0 and run["unexpected"] == 0
    assert run["ok"] + run["rejected_503"] == run["requests"]
    assert 0 < run["p50_ms"] <= run["p99_ms"]
    assert run["rtf"] > 0
