"""Shared fixtures: the FSDD copy and a real uvicorn server on the default bundle."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from benchmarks.server import REPO, Server, free_port  # noqa: F401 (re-exported for tests)
from tests.demo_page import browser, demo  # noqa: F401 (fixtures of the browser tests)

FSDD = Path(os.environ.get("AUDIOVAE_FSDD", REPO.parent / "shared" / "data" / "fsdd"))
DEFAULT_BUNDLE = REPO / "models" / "default"
# The previous default: digit-conditional conv VAE whose voices are latent regions.
CVAE_BUNDLE = REPO / "models" / "cvae"


@pytest.fixture(scope="session")
def fsdd() -> Path:
    if not (FSDD / "recordings").is_dir():
        pytest.skip(f"FSDD recordings not found at {FSDD} (set AUDIOVAE_FSDD to its folder)")
    return FSDD


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    srv = Server(DEFAULT_BUNDLE)
    try:
        srv.wait_ready()
        yield srv
    finally:
        srv.stop()


@pytest.fixture()
def client(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30.0) as c:
        yield c


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    """A tiny real training run (MLP, latent 3) exported as a bundle: (config, result, meta).
    Training imports stay inside, so service-only test runs never load TensorFlow."""
    from tests.factory import make_fsdd_tree
    from training.models.config import TrainConfig
    from training.models.export import export_bundle
    from training.models.fit import fit

    root = tmp_path_factory.mktemp("train")
    config = TrainConfig(
        data=make_fsdd_tree(root / "fsdd", speakers=("ann", "bob", "cy", "dee"), takes=6),
        out=root / "bundle",
        latent_dim=3,
        widths=(32, 16),
        epochs=3,
        batch_size=16,
        cache_dir=root / "cache",
        run_dir=root / "runs",
    )
    result = fit(config)
    meta = export_bundle(result, config)
    return config, result, meta
