"""Adversarial fine-tuning (training/models/adversarial.py) on tiny random data: a few real
steps."""

from __future__ import annotations

import numpy as np

from app.audio.contract import Contract
from training.evaluation.harmonic_eval import harmonic_detail
from training.models.adversarial import AdversarialConfig, AdversarialTrainer, fine_tune
from training.models.architectures import BUILDERS, one_hot

SHAPE = (33, 12)  # bins x frames: small enough for seconds on one core


def test_fine_tune_trains_both_sides():
    rng = np.random.default_rng(0)
    vae = BUILDERS["cvae"](SHAPE, 4, (4, 8), seed=0)
    # "Real" images with a comb along frequency, which a fresh decoder cannot draw.
    comb = (np.arange(SHAPE[0]) % 3 == 0).astype(np.float32)[:, None]
    images = np.clip(0.2 + 0.7 * comb + 0.05 * rng.standard_normal((64, *SHAPE)), 0, 1)
    images = images.astype(np.float32)
    digits = rng.integers(0, 10, 64)
    z_mean = rng.standard_normal((64, 4)).astype(np.float32)
    z_log_var = np.full((64, 4), -2.0, np.float32)
    config = AdversarialConfig(
        batch_size=8, warmup_steps=40, max_steps=60, learning_rate=1e-3,
        disc_learning_rate=1e-3, widths=(4, 8), minutes=5,
    )  # fmt: skip
    trainer = AdversarialTrainer(vae.decoder, config, SHAPE, band_bins=24)
    before = [w.copy() for w in vae.decoder.get_weights()]
    history = fine_tune(trainer, images, digits, z_mean, z_log_var)

    assert len(history) == 60
    keys = {"d_loss", "d_accuracy", "rec", "adv", "fm"}
    assert keys <= set(history[-1]) and all(np.isfinite(history[-1][k]) for k in keys)
    assert "rec" not in history[0]  # the warm-up trains the discriminator alone
    # It learned to tell them apart: hinge loss below the 2 of a constant guess, logits
    # higher on real images than on decodings.
    assert np.mean([h["d_loss"] for h in history[30:40]]) < 1.9
    fake = vae.decoder.predict([z_mean[:16], one_hot(digits[:16])], verbose=0)
    d = trainer.discriminator
    real_logit = np.mean(d.predict([images[:16, :24], one_hot(digits[:16])], verbose=0)[-1])
    fake_logit = np.mean(d.predict([fake[:, :24], one_hot(digits[:16])], verbose=0)[-1])
    assert real_logit > fake_logit
    after = vae.decoder.get_weights()
    assert any(not np.allclose(a, b) for a, b in zip(before, after, strict=True))


def test_harmonic_detail_sees_a_comb_not_an_envelope():
    contract = Contract()
    hz = np.arange(contract.n_bins) * contract.sample_rate / contract.n_fft
    envelope = np.broadcast_to((-hz / 100)[:, None], (contract.n_bins, 10))  # smooth tilt
    comb = envelope + 10 * (np.arange(contract.n_bins) % 3 == 0)[:, None]  # a 130 Hz comb
    smooth = harmonic_detail(envelope[None], contract)
    assert smooth < 0.5 < 5 < harmonic_detail(comb[None], contract)
