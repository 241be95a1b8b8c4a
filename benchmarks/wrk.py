"""Closed-loop load with wrk (C, epoll; Debian package `wrk`) when it is installed.

On 2 cores the load generator competes with the server for CPU: an asyncio httpx client
spends about as long per request as the service does, so it caps what can be measured.
wrk costs a few microseconds per request. The Lua script below picks a random digit per
request and counts statuses, audio seconds and latencies itself, and `done` prints one
JSON line that `run` parses into the same summary shape as `benchmarks.load.summarise`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

SCRIPT = r"""
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  math.randomseed(1000 + id)
  ok, rejected, other, audio = 0, 0, 0, 0.0
end
function request()
  return wrk.format("POST", "/generate?digit=" .. math.random(0, 9))
end
function response(status, headers, body)
  if status == 200 then
    ok = ok + 1
    audio = audio + (tonumber(headers["x-duration-seconds"]) or 0)
  elseif status == 503 then
    rejected = rejected + 1
  else
    other = other + 1
  end
end
function done(summary, latency, requests)
  local t = {ok = 0, rejected = 0, other = 0, audio = 0.0}
  for _, thread in ipairs(threads) do
    t.ok = t.ok + thread:get("ok")
    t.rejected = t.rejected + thread:get("rejected")
    t.other = t.other + thread:get("other")
    t.audio = t.audio + thread:get("audio")
  end
  local e = summary.errors
  io.write(string.format(
    '\nWRK_JSON {"requests": %d, "duration_us": %d, "ok": %d, "rejected": %d, "other": %d, ' ..
    '"socket_errors": %d, "audio_s": %f, "mean_us": %f, "p50_us": %d, "p95_us": %d, ' ..
    '"p99_us": %d}\n',
    summary.requests, summary.duration, t.ok, t.rejected, t.other,
    e.connect + e.read + e.write + e.timeout, t.audio, latency.mean,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


def available() -> bool:
    return shutil.which("wrk") is not None


def generate_load(url: str, concurrency: int, seconds: float) -> dict[str, float]:
    """`concurrency` connections posting /generate?digit=<random> for `seconds`, on one wrk
    thread (plenty for a few hundred requests per second, and it leaves the cores to the
    server). Latencies cover every response, 503s included, as wrk measures them."""
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "generate.lua"
        script.write_text(SCRIPT)
        completed = subprocess.run(
            ["wrk", "-t1", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "--timeout", "30s",
             "-s", str(script), url],
            capture_output=True, text=True, check=True, timeout=seconds + 60,
        )  # fmt: skip
    line = next(x for x in completed.stdout.splitlines() if x.startswith("WRK_JSON "))
    r = json.loads(line.removeprefix("WRK_JSON "))
    wall = r["duration_us"] / 1e6
    busy = r["mean_us"] / 1e6 * r["requests"]  # request-seconds spent waiting for answers
    return {
        "requests": r["requests"],
        "ok": r["ok"],
        "rejected_503": r["rejected"],
        "unexpected": r["other"] + r["socket_errors"],
        "rps": round(r["ok"] / wall, 1),
        "p50_ms": round(r["p50_us"] / 1000, 1),
        "p95_ms": round(r["p95_us"] / 1000, 1),
        "p99_ms": round(r["p99_us"] / 1000, 1),
        "rtf": round(r["audio_s"] / busy, 1) if busy else 0.0,
    }
