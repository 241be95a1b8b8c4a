"""Quality tooling trained for real on a small synthetic tree: the judge, the conv and
conditional VAEs, the evaluation and its report, and the service on a conditional bundle."""

from __future__ import annotations

import io
import json

import httpx
import numpy as np
import onnxruntime as ort
import pytest
import soundfile as sf

from app.core.config import Settings
from app.synthesis.bundle import CLASSIFIER_FILE, DECODER_FILE, ENCODER_FILE, read_meta
from app.synthesis.model import one_hot
from app.synthesis.synthesizer import Synthesizer
from tests.conftest import Server
from tests.factory import digit_clip, make_fsdd_tree
from training.evaluation.comparison import write_comparison
from training.evaluation.evaluate import EvalConfig, evaluate_bundle
from training.models.classifier import JUDGE_FILE, JudgeConfig, export_classifier, train_classifier
from training.models.config import TrainConfig
from training.models.export import export_bundle
from training.models.fit import fit

SPEAKERS = ("ann", "bob", "cy", "dee")


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("quality")
    return root, make_fsdd_tree(root / "fsdd", speakers=SPEAKERS, takes=5)


@pytest.fixture(scope="module")
def judge(tree):
    root, data = tree
    config = JudgeConfig(
        data=data,
        out=root / "judge",
        test_speakers=("dee",),
        epochs=4,
        batch_size=16,
        cache_dir=root / "cache",
    )
    model, facts = train_classifier(config)
    export_classifier(model, facts, config)
    return config, model, facts


def _train(tree, judge, model: str, name: str):
    root, data = tree
    config = TrainConfig(
        data=data,
        out=root / name,
        model=model,
        latent_dim=3,
        widths=(4, 8, 8),
        epochs=2,
        batch_size=16,
        split="speaker",
        test_speakers=("dee",),
        kl_warmup=1,
        judge=judge[0].out,
        cache_dir=root / "cache",
        run_dir=root / "runs",
    )
    result = fit(config)
    return config, result, export_bundle(result, config)


@pytest.fixture(scope="module")
def cvae(tree, judge):
    return _train(tree, judge, "cvae", "cvae")


def test_judge_learns_the_synthetic_digits_and_exports(judge):
    config, model, facts = judge
    assert facts["clips"]["test"] == 50 and facts["test_speakers"] == ["dee"]
    # Synthetic digits are two tones 60 Hz apart per digit: clearly better than chance (0.1).
    assert facts["accuracy"]["test"] > 0.3
    meta = json.loads((config.out / "judge.json").read_text())
    session = ort.InferenceSession(str(config.out / JUDGE_FILE))
    assert [o.name for o in session.get_outputs()] == ["logits", "embedding"]
    images = np.random.default_rng(2).uniform(0, 1, (4, 257, 69)).astype(np.float32)
    logits, embedding = session.run(None, {"image": images})
    keras_logits, keras_embedding = (np.asarray(t) for t in model(images))
    assert np.abs(logits - keras_logits).max() <= 1e-4
    assert embedding.shape == (4, meta["embedding_dim"])


@pytest.mark.parametrize("kind", ["conv", "cvae"])
def test_conv_vaes_train_and_match_onnx(tree, judge, cvae, kind):
    config, result, meta = cvae if kind == "cvae" else _train(tree, judge, "conv", "conv")
    conditional = kind == "cvae"
    assert meta.model.conditional is conditional and meta.model.kind == kind
    assert result.history["elbo"][-1] < result.history["elbo"][0]
    assert sorted(meta.latent) == [str(d) for d in range(10)]  # mixtures for every model
    assert CLASSIFIER_FILE in meta.files
    rng = np.random.default_rng(3)
    z = rng.standard_normal((5, 3)).astype(np.float32)
    digits = one_hot([0, 3, 5, 7, 9])
    images = result.data.images[:5]
    decoder = ort.InferenceSession(str(config.out / DECODER_FILE))
    encoder = ort.InferenceSession(str(config.out / ENCODER_FILE))
    extra = {"digit": digits} if conditional else {}
    (onnx_images,) = decoder.run(None, {"z": z, **extra})
    keras_images = np.asarray(result.vae.decoder([z, digits] if conditional else z))
    assert onnx_images.shape == (5, 257, 69)
    assert np.abs(onnx_images - keras_images).max() <= 1e-4
    onnx_mean, _ = encoder.run(None, {"image": images, **extra})
    keras_mean, _ = result.vae.encoder([images, digits] if conditional else images)
    assert np.abs(onnx_mean - np.asarray(keras_mean)).max() <= 1e-4


def test_conditional_bundle_in_the_synthesizer(cvae):
    config, _, _ = cvae
    synth = Synthesizer(config.out)
    assert synth.conditional and synth.classifier is not None
    clips = synth.generate([1, 2], seed=5, gl_iters=2)
    assert clips.shape == (2, 17_640) and np.all(np.isfinite(clips))
    clip = digit_clip(4, 1, 22_050)
    # No digit given: the bundle's classifier infers it.
    assert synth.reconstruct(clip, gl_iters=2).shape == (17_640,)


def test_evaluate_writes_bundle_evaluation_report_and_table(tree, judge, cvae, tmp_path):
    root, data = tree
    config, _, _ = cvae
    ev = evaluate_bundle(
        EvalConfig(
            bundle=config.out,
            data=data,
            judge=judge[0].out,
            per_digit=4,
            gl_iters=2,
            batch=20,
            variants=True,
            voiced_clips=8,
            mos_clips=2,
            numbers=2,
            variant_clips=20,
            reports=tmp_path / "reports",
            cache_dir=root / "cache",
            espeak=None,  # tests/test_unseen.py covers the espeak-ng set
            independent=False,  # tests/test_independent.py, on real speech
            transfer_takes=1,
        )
    )
    meta = read_meta(config.out)  # hashes still verify after the evaluation is written
    assert meta.evaluation == json.loads(json.dumps(ev))
    assert meta.evaluation["unseen_speakers"] is True
    generated = ev["generated"]
    assert generated["clips"] == 40 and sorted(generated["per_digit"]) == list("0123456789")
    assert np.array(generated["confusion"]).sum() == 40
    assert 1.0 <= generated["inception_score"] <= 10.0
    assert ev["real"]["clips"] == 50 and 0.0 <= ev["real"]["accuracy"] <= 1.0
    assert ev["reconstruction"]["vae_sc"] > 0 and ev["reconstruction"]["inverted_lsd"] > 0
    assert len(ev["variants"]["generated"]) == 7 and len(ev["variants"]["real"]) == 6
    unseen = ev["unseen_voices"]["sets"]
    assert list(unseen) == ["+".join(judge[0].test_speakers)] and ev["gl_hop"] == 128
    assert unseen[list(unseen)[0]]["clips"] == 50
    assert set(unseen[list(unseen)[0]]["renditions"]) == {"vocoder", "original_phase", "true_digit"}
    transfer = ev["voice_transfer"]
    assert transfer["speakers"] == ["ann", "bob", "cy", "dee"]
    made = transfer["nearest"]
    assert made["references"] == 40 and 0.0 <= made["accuracy"] <= 1.0
    speakers_heard = made["speaker_id"]
    assert speakers_heard["clips"] == 9 * (made["references"] - made["refused"])
    assert set(speakers_heard["per_speaker"]) <= {"ann", "bob", "cy", "dee"}
    assert transfer["speaker_id"]["trained_on_takes"] == "1-4"  # the tree has takes 0-4
    robust = transfer["speaker_id_vocoder_robust"]
    assert (
        robust["real_references"]["train_clips"]
        == 2 * transfer["speaker_id"]["real_references"]["train_clips"]
    )
    assert made["speaker_id_vocoder_robust"]["clips"] == speakers_heard["clips"]
    natural = ev["naturalness"]
    assert ev["vocoder"] == "source-filter"
    for block in (natural["real"], natural["generated"], natural["reconstruction"]["vocoder"]):
        assert 0.0 <= block["voiced_share"] <= 1.0 and block["clips"] == 8
    assert 0.0 <= natural["pitch_range_coverage"] <= 1.0 and natural["numbers"]["numbers"] == 2
    if natural["generated"]["dnsmos"] is not None:  # speechmos installed (make test does)
        assert 1.0 <= natural["generated"]["dnsmos"]["sig"] <= 5.0
    second = ev["second_opinion"]
    assert second["real"] >= 0.8  # the synthetic digits are distinct tones: easy to tell apart
    assert 0.0 <= second["generated"] <= 1.0 and 0.0 <= second["reconstruction"] <= 1.0
    report = tmp_path / "reports" / "cvae"
    names = ("index.md", "spectrograms.png", "harmonics.png", "latent.png", "confusion.png")
    for name in (*names, "curves.png"):
        assert (report / name).stat().st_size > 0, name
    table = write_comparison([config.out], tmp_path / "results.md").read_text()
    assert "| cvae | cvae (conditional) | 3 |" in table
    assert "MFCC + SVM" in table
    assert "From magnitudes to sound" in table and "| voiced share |" in table
    assert "## Voices no model heard" in table and "| digit inferred |" in table
    # measured at the service's defaults, post-filter included
    assert ev["sharpen"] == Settings().sharpen and "| post-filter |" in table
    assert {"GL 16 + post-filter 1.5", "source-filter + post-filter 1.5"} <= set(
        ev["variants"]["generated"]
    )


def test_service_serves_a_conditional_bundle(cvae):
    config, _, _ = cvae
    server = Server(config.out)
    try:
        server.wait_ready()
        with httpx.Client(base_url=server.url, timeout=30.0) as client:
            response = client.post("/generate", params={"digit": 6, "seed": 1})
            assert response.status_code == 200, response.text
            assert response.headers["content-type"] == "audio/wav"
            assert len(response.content) > 17_640 * 2
            upload = io.BytesIO()
            sf.write(upload, digit_clip(2, 0, 8000), 8000, format="WAV")
            for params in ({}, {"digit": 2}):  # inferred by the bundle's classifier, or given
                response = client.post(
                    "/reconstruct", params=params, files={"file": ("2.wav", upload.getvalue())}
                )
                assert response.status_code == 200, response.text
            response = client.post(
                "/reconstruct", params={"digit": 10}, files={"file": ("2.wav", upload.getvalue())}
            )
            assert response.status_code == 422
    finally:
        server.stop()
