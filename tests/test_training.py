"""A tiny real training run through export; Keras and onnxruntime must agree."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import onnxruntime as ort
import pytest

from app.synthesis.bundle import DECODER_FILE, ENCODER_FILE, read_meta, sha256_file
from app.synthesis.synthesizer import Synthesizer
from tests.factory import make_fsdd_tree
from training.__main__ import main as cli
from training.models.fit import TimeBudget


def test_training_reports_losses_per_split(trained):
    _, result, meta = trained
    assert len(result.history["loss"]) == 3 and len(result.history["val_loss"]) == 3
    assert result.history["loss"][-1] < result.history["loss"][0]
    assert set(meta.training["losses"]) == {"train", "val", "test"}
    assert all(np.isfinite(v) and v > 0 for v in meta.training["losses"].values())
    assert 1 <= result.best_epoch <= 3


def test_bundle_is_complete_and_verifiable(trained):
    config, result, _ = trained
    meta = read_meta(config.out)
    assert meta.contract_params() == config.contract
    assert meta.model.latent_dim == 3 and not meta.model.conditional
    assert (
        meta.model.parameters
        == result.vae.encoder.count_params() + result.vae.decoder.count_params()
    )
    assert sorted(meta.latent) == [str(d) for d in range(10)]
    assert all(np.array(g.cov).shape == (3, 3) for g in meta.latent["4"])
    assert sum(g.weight for g in meta.latent["4"]) == pytest.approx(1.0)
    for name in (ENCODER_FILE, DECODER_FILE):
        assert meta.files[name].sha256 == sha256_file(config.out / name)
    split = meta.training["clips"]
    assert split["train"] + split["val"] + split["test"] == len(result.data)


def test_keras_and_onnx_agree(trained):
    config, result, _ = trained
    rng = np.random.default_rng(1)
    z = rng.standard_normal((8, config.latent_dim)).astype(np.float32)
    images = result.data.images[:8]
    decoder = ort.InferenceSession(str(config.out / DECODER_FILE))
    encoder = ort.InferenceSession(str(config.out / ENCODER_FILE))
    (onnx_images,) = decoder.run(None, {"z": z})
    keras_images = np.asarray(result.vae.decoder(z))
    assert onnx_images.shape == (8, *config.contract.image_shape)
    assert np.abs(onnx_images - keras_images).max() <= 1e-4
    onnx_mean, onnx_log_var = encoder.run(None, {"image": images})
    keras_mean, keras_log_var = (np.asarray(t) for t in result.vae.encoder(images))
    assert np.abs(onnx_mean - keras_mean).max() <= 1e-4
    assert np.abs(onnx_log_var - keras_log_var).max() <= 1e-4


def test_service_side_loads_the_new_bundle(trained):
    config, _, _ = trained
    synth = Synthesizer(config.out)
    a = synth.speak([3], seed=7, gl_iters=4)
    assert a.shape == (config.contract.clip_samples,)
    np.testing.assert_array_equal(a, synth.speak([3], seed=7, gl_iters=4))


def test_cli_trains_and_exports(tmp_path):
    root = make_fsdd_tree(tmp_path / "fsdd", speakers=("ann", "bob", "cy"), takes=8)
    out = tmp_path / "cli-bundle"
    cli(
        [
            "fit",
            "--data",
            str(root),
            "--layout",
            "fsdd",
            "--model",
            "mlp",
            "--latent-dim",
            "2",
            "--widths",
            "8",
            "--epochs",
            "50",
            "--minutes",  # a budget one epoch already overruns: training stops after it
            "0.0001",
            "--split",
            "speaker",
            "--test-speakers",
            "bob",
            "--out",
            str(out),
            "--cache-dir",
            str(tmp_path / "cache"),
        ]
    )
    meta = json.loads((out / "bundle.json").read_text())
    assert meta["training"]["split"] == "speaker"
    assert meta["training"]["clips"]["test"] > 0
    assert meta["model"]["config"]["widths"] == [8]
    assert meta["training"]["epochs_run"] == 1
    assert meta["training"]["minutes_budget"] == 0.0001


def test_time_budget_stops_before_an_epoch_would_overrun():
    now = [0.0]
    budget = TimeBudget(minutes=1.0, clock=lambda: now[0])
    budget.set_model(SimpleNamespace(stop_training=False))
    budget.on_train_begin()
    for epoch, seconds in enumerate([10.0, 20.0, 15.0]):
        budget.on_epoch_begin(epoch)
        now[0] += seconds
        budget.on_epoch_end(epoch)
        # after 10 s: 10 + 10 fits; after 30 s: 30 + 20 fits; after 45 s: 45 + 20 does not
        assert budget.model.stop_training is (epoch == 2)
