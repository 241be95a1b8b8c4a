"""The serve command: one uvicorn worker process per available core, metrics shared.

    python -m app.serve [--host 127.0.0.1] [--port 8000] [--workers N]

Workers: --workers, else WEB_CONCURRENCY (or AUDIOVAE_WORKERS), else the cores this
process may use (its CPU affinity and, in a container, its cgroup CPU limit). Each worker
loads the bundle once, in its own lifespan.

Metrics: prometheus-client's multiprocess mode, so every worker's counts add up in each
scrape, whichever worker answers it. Its folder is $PROMETHEUS_MULTIPROC_DIR (a tmpfs in
docker-compose.yml, an emptyDir on Kubernetes) or a fresh temporary one; it is emptied
here, before any worker starts, since files left by an earlier run would be counted again.
Voice ids: without AUDIOVAE_VOICE_SECRET, one random key is made here and given to every
worker (so they accept each other's ids), valid until the command stops.

Failures: a worker that cannot start (a missing or broken bundle) makes the command exit
with status 3, whatever the worker count (uvicorn's own supervisor stops but exits 0: a
restart policy `on-failure` would never see it). A worker that dies later (killed, out of
memory) is replaced by the supervisor; the others keep answering meanwhile.

Nothing in this module imports prometheus_client: the variable must be set before it is.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import secrets
import shutil
import tempfile
from pathlib import Path

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from app.core.config import Settings

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
SECRET_ENV = "AUDIOVAE_VOICE_SECRET"
log = logging.getLogger("app.serve")


def cgroup_cpus(root: Path = Path("/sys/fs/cgroup")) -> float | None:
    """The CPU limit of this process's cgroup (v2 cpu.max, or v1 CFS quota), if any."""
    try:
        quota, period = (root / "cpu.max").read_text().split()
        if quota != "max":
            return int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        quota = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
        period = int((root / "cpu" / "cpu.cfs_period_us").read_text())
        return quota / period if quota > 0 and period > 0 else None
    except (OSError, ValueError):
        return None


def available_cpus() -> int:
    """Cores this process may run on: affinity, capped by a container's CPU limit."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    limit = cgroup_cpus()
    if limit is not None:
        cores = min(cores or 1, max(1, math.ceil(limit)))
    return max(1, cores or 1)


def prepare_metrics_dir(folder: Path) -> None:
    """Create the multiprocess folder, or empty it (not the folder itself: it may be a mount)."""
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()


def supervise(config: uvicorn.Config) -> int:
    """uvicorn.run's several-worker path, with the exit status it drops: STARTUP_FAILURE
    when a worker failed to start (the supervisor then stops the others), else 0."""
    supervisor = Multiprocess(config, sockets=[config.bind_socket()])
    supervisor.run()
    failed = [p.pid for p in supervisor.processes if p.exitcode == STARTUP_FAILURE]
    if failed:
        log.error("worker %s could not start (see above); exiting with status %d",
                  failed[0], STARTUP_FAILURE)  # fmt: skip
        return STARTUP_FAILURE
    return 0


def run(workers: int, **options) -> int:
    """Serve until stopped; the exit status (0, or STARTUP_FAILURE)."""
    app = "app.main:create_app"
    if workers == 1:  # one process, no supervisor: uvicorn exits 3 itself on a failed start
        uvicorn.run(app, factory=True, workers=1, **options)
        return 0
    return supervise(uvicorn.Config(app, factory=True, workers=workers, **options))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m app.serve", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--workers",
        type=int,
        help="worker processes (default: WEB_CONCURRENCY, else one per available core)",
    )
    args = parser.parse_args(argv)
    settings = Settings()
    workers = args.workers or settings.workers or available_cpus()

    logging.basicConfig(format="%(levelname)s:     %(message)s")
    made_here = MULTIPROC_ENV not in os.environ
    folder = Path(os.environ.get(MULTIPROC_ENV) or tempfile.mkdtemp(prefix="audiovae-metrics-"))
    prepare_metrics_dir(folder)
    os.environ[MULTIPROC_ENV] = str(folder)  # inherited by every worker
    if settings.voice_secret is None:
        # One key for all workers, so an id made by one is accepted by the others.
        os.environ[SECRET_ENV] = secrets.token_urlsafe(32)
        log.warning(
            "%s is unset: voice ids are signed with a random key made for this run; they "
            "stop working when it stops (set the variable to keep them)",
            SECRET_ENV,
        )
    try:
        status = run(
            workers,
            host=args.host,
            port=args.port,
            access_log=False,  # the app logs one JSON line per request itself
            log_level=settings.log_level.lower(),
        )
    finally:
        if made_here:
            shutil.rmtree(folder, ignore_errors=True)
    if status:
        raise SystemExit(status)


if __name__ == "__main__":
    main()
