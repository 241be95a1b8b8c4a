"""Ex-post latent mixtures: fitted per digit at export, refitted by the CLI, sampled by
the service."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from app.synthesis.bundle import DECODER_FILE, ENCODER_FILE, META_FILE, read_meta
from app.synthesis.synthesizer import Synthesizer
from tests.factory import make_fsdd_tree
from training.__main__ import main as cli
from training.models.latents import fit_mixtures


@pytest.fixture()
def bundle(trained):
    """The shared tiny training run's config (latent 3); tests copy its bundle to change it."""
    return trained[0]


def test_fit_mixtures_finds_each_digits_clusters():
    rng = np.random.default_rng(0)
    centres = {d: np.array([[d, 5.0], [d, -5.0]]) for d in range(10)}
    z = np.stack([centres[d][i % 2] + 0.1 * rng.standard_normal(2) for d in range(10)
                        for i in range(60)])  # fmt: skip
    digits = np.repeat(np.arange(10), 60)
    mixtures = fit_mixtures(z, digits, components=2)
    for d in range(10):
        means = sorted((tuple(np.round(g.mean, 1)) for g in mixtures[str(d)]), key=lambda m: m[1])
        np.testing.assert_allclose(means, [(d, -5.0), (d, 5.0)], atol=0.1)
        assert sum(g.weight for g in mixtures[str(d)]) == pytest.approx(1.0)


def test_fit_mixtures_uses_fewer_components_when_points_are_few():
    z = np.random.default_rng(1).standard_normal((100, 4))
    mixtures = fit_mixtures(z, np.repeat(np.arange(10), 10), components=5)
    assert all(len(m) == 1 for m in mixtures.values())  # 10 points cannot support 5 in 4-D


def test_service_samples_components_by_weight(bundle, tmp_path):
    folder = tmp_path / "mixture"
    shutil.copytree(bundle.out, folder)
    meta = json.loads((folder / META_FILE).read_text())
    tiny = (1e-12 * np.eye(3)).tolist()
    meta["latent"]["4"] = [
        {"weight": 0.25, "mean": [3.0, 0.0, 0.0], "cov": tiny},
        {"weight": 0.75, "mean": [-3.0, 0.0, 0.0], "cov": tiny},
    ]
    (folder / META_FILE).write_text(json.dumps(meta))
    synth = Synthesizer(folder)
    z = synth.sample_latents([4] * 2000, np.random.default_rng(5), temperature=1.0)
    assert set(np.round(z[:, 0]).tolist()) == {3.0, -3.0}
    assert np.mean(z[:, 0] > 0) == pytest.approx(0.25, abs=0.04)
    np.testing.assert_array_equal(
        z, synth.sample_latents([4] * 2000, np.random.default_rng(5), temperature=1.0)
    )


def test_a_single_gaussian_per_digit_still_loads(bundle, tmp_path):
    """Bundles written before mixtures hold one {mean, cov} per digit."""
    folder = tmp_path / "single"
    shutil.copytree(bundle.out, folder)
    meta = json.loads((folder / META_FILE).read_text())
    meta["latent"] = {d: {"mean": [0.5, -0.5, 0.0], "cov": np.eye(3).tolist()} for d in
                      meta["latent"]}  # fmt: skip
    (folder / META_FILE).write_text(json.dumps(meta))
    synth = Synthesizer(folder)
    assert [len(m) for m in synth.meta.latent.values()] == [1] * 10
    z = synth.sample_latents([1] * 3, np.random.default_rng(0), temperature=0.0)
    np.testing.assert_array_equal(z, [[0.5, -0.5, 0.0]] * 3)


def test_cli_refits_a_bundles_mixtures_without_touching_its_models(bundle, tmp_path):
    folder = tmp_path / "refit"
    shutil.copytree(bundle.out, folder)
    before = read_meta(folder)
    cli(["latents", str(folder), "--data", str(bundle.data), "--components", "1",
         "--cache-dir", str(bundle.cache_dir)])  # fmt: skip
    after = read_meta(folder)  # verifies the ONNX hashes too
    assert [len(m) for m in after.latent.values()] == [1] * 10
    assert after.model.config["latent_components"] == 1
    assert after.latent != before.latent
    for name in (ENCODER_FILE, DECODER_FILE):
        assert after.files[name] == before.files[name]
    other = make_fsdd_tree(tmp_path / "other", speakers=("zed", "amy", "kim"), takes=6)
    with pytest.raises(RuntimeError, match="not the data"):
        cli(["latents", str(folder), "--data", str(other), "--cache-dir", str(tmp_path / "c")])
