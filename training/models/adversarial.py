"""Adversarial fine-tuning of a conditional VAE's decoder (issue 14; RAVE's second stage,
VAE-GAN): the encoder is frozen, the decoder trained on the VAE's reconstruction loss plus a
hinge loss from a small 2-D conv spectrogram discriminator and feature matching (L1 between
the discriminator's feature maps of the real image and of its decoding).

Why: the pixel-wise loss averages over pitch, so the decoder draws smooth envelopes; a
discriminator that sees harmonic ripple in real images gives it a reason to commit to one.
The discriminator looks only at the band below the contract's band_hz (above it every
image is at the floor) with kernels long along frequency, where harmonics are 2-6 bins apart.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from app.synthesis.bundle import DECODER_FILE, file_entry, read_meta, write_meta
from training.data.dataset import length_filter, load_dataset, speaker_split
from training.models.architectures import BUILDERS, DEFAULT_WIDTHS, N_DIGITS, VAE, one_hot
from training.models.export import to_onnx

log = logging.getLogger(__name__)


@dataclass
class AdversarialConfig:
    lambda_adv: float = 0.1  # hinge weight (at 1, rec_weight 1e-3, a trial decoded blocks)
    lambda_fm: float = 10.0  # feature matching weight (RAVE's 10)
    rec_weight: float = 0.01  # x the VAE's per-clip BCE sum (about 2e3 per clip)
    learning_rate: float = 1e-4  # decoder: a fine-tune, not a new fit
    disc_learning_rate: float = 2e-4
    batch_size: int = 16
    warmup_steps: int = 100  # discriminator alone first, so its first gradients mean something
    max_steps: int = 100_000
    minutes: float = 9.0  # wall clock of the training loop
    widths: tuple[int, ...] = (16, 32, 32, 64)  # discriminator filters per layer
    seed: int = 42


def build_discriminator(
    bins: int, frames: int, widths: tuple[int, ...] = (16, 32, 32, 64)
) -> keras.Model:
    """[N, bins, frames] image + digit one-hot -> (feature maps..., logit map). UnivNet's
    spectrogram discriminator in shape (kernels 9 along frequency, stride 2), plus a
    projection of the digit onto the last feature map (a conditional discriminator)."""
    image = keras.Input(shape=(bins, frames), name="image")
    digit = keras.Input(shape=(N_DIGITS,), name="digit")
    x = layers.Reshape((bins, frames, 1))(image)
    features = []
    for i, filters in enumerate(widths):
        strides = (1, 1) if i == 0 else (2, 2)
        kernel = (9, 3) if i < len(widths) - 1 else (5, 3)
        x = layers.Conv2D(filters, kernel, strides=strides, padding="same")(x)
        x = layers.LeakyReLU(0.2)(x)
        features.append(x)
    logit = layers.Conv2D(1, 3, padding="same")(x)
    embedded = layers.Reshape((1, 1, widths[-1]))(layers.Dense(widths[-1], use_bias=False)(digit))
    logit = logit + ops.sum(x * embedded, axis=-1, keepdims=True) / widths[-1] ** 0.5
    return keras.Model([image, digit], [*features, logit], name="discriminator")


def reconstruction_loss(images: tf.Tensor, decoded: tf.Tensor) -> tf.Tensor:
    """The VAE's: BCE summed over pixels, mean over clips (training/models/architectures.py)."""
    bce = keras.losses.binary_crossentropy(images[..., None], decoded[..., None])
    return ops.mean(ops.sum(bce, axis=(1, 2)))


class AdversarialTrainer:
    """One decoder, one discriminator, two Adam optimisers (beta_1 0.5, as GANs like)."""

    def __init__(
        self, decoder: keras.Model, config: AdversarialConfig, image_shape: tuple[int, int],
        band_bins: int,
    ) -> None:  # fmt: skip
        self.decoder, self.config, self.band_bins = decoder, config, band_bins
        self.discriminator = build_discriminator(band_bins, image_shape[1], config.widths)
        self.g_opt = keras.optimizers.Adam(config.learning_rate, beta_1=0.5, beta_2=0.9)
        self.d_opt = keras.optimizers.Adam(config.disc_learning_rate, beta_1=0.5, beta_2=0.9)

    def _judge(self, images: tf.Tensor, digits: tf.Tensor) -> list[tf.Tensor]:
        return self.discriminator([images[:, : self.band_bins], digits], training=True)

    @tf.function(reduce_retracing=True)
    def d_step(self, images: tf.Tensor, digits: tf.Tensor, z: tf.Tensor) -> dict:
        decoded = self.decoder([z, digits], training=False)
        with tf.GradientTape() as tape:
            real = self._judge(images, digits)[-1]
            fake = self._judge(decoded, digits)[-1]
            loss = ops.mean(ops.relu(1.0 - real)) + ops.mean(ops.relu(1.0 + fake))
        variables = self.discriminator.trainable_variables
        self.d_opt.apply(tape.gradient(loss, variables), variables)
        # Share of positions the discriminator calls right: how well it separates them.
        right = ops.mean(ops.cast(real > 0, "float32")) + ops.mean(ops.cast(fake < 0, "float32"))
        return {"d_loss": loss, "d_accuracy": right / 2}

    @tf.function(reduce_retracing=True)
    def g_step(self, images: tf.Tensor, digits: tf.Tensor, z: tf.Tensor) -> dict:
        c = self.config
        real = [ops.stop_gradient(f) for f in self._judge(images, digits)[:-1]]
        with tf.GradientTape() as tape:
            decoded = self.decoder([z, digits], training=True)
            *fake_features, fake = self._judge(decoded, digits)
            rec = reconstruction_loss(images, decoded)
            adv = -ops.mean(fake)  # the hinge's generator side
            fm = sum(ops.mean(ops.abs(r - f)) for r, f in zip(real, fake_features, strict=True))
            fm = fm / len(real)
            loss = c.rec_weight * rec + c.lambda_adv * adv + c.lambda_fm * fm
        variables = self.decoder.trainable_variables
        self.g_opt.apply(tape.gradient(loss, variables), variables)
        return {"rec": rec, "adv": adv, "fm": fm}


def fine_tune(
    trainer: AdversarialTrainer,
    images: np.ndarray,
    digits: np.ndarray,
    z_mean: np.ndarray,
    z_log_var: np.ndarray,
) -> list[dict]:
    """Discriminator-only warm-up, then one discriminator and one decoder step per batch, z
    drawn from the frozen encoder's posterior as in VAE training, until steps or minutes
    run out. Returns the per-step losses."""
    c = trainer.config
    rng = np.random.default_rng(c.seed)
    started, history = time.monotonic(), []
    for step in range(c.max_steps):
        if time.monotonic() - started > 60 * c.minutes:
            log.info("time budget: stopping after %d steps", step)
            break
        index = rng.choice(len(images), c.batch_size, replace=False)
        eps = rng.standard_normal(z_mean[index].shape).astype(np.float32)
        z = z_mean[index] + np.exp(0.5 * z_log_var[index]) * eps
        batch = (tf.constant(images[index]), tf.constant(one_hot(digits[index])), tf.constant(z))
        row = {"step": step, **trainer.d_step(*batch)}
        if step >= c.warmup_steps:
            row.update(trainer.g_step(*batch))
        history.append({k: float(v) for k, v in row.items()})
        if step % 50 == 0:
            log.info("step %d: %s", step, {k: round(v, 4) for k, v in history[-1].items()})
    return history


def load_vae(weights: Path, image_shape: tuple[int, int], latent_dim: int) -> VAE:
    """A cvae as training/models/fit.py builds it, with the fitted weights."""
    vae = BUILDERS["cvae"](image_shape, latent_dim, DEFAULT_WIDTHS["cvae"], seed=0)
    vae([np.zeros((1, *image_shape), np.float32), one_hot([0])])  # build the variables
    vae.load_weights(weights)
    return vae


def check_matches(decoder: keras.Model, bundle: Path) -> None:
    """Refuse weights that are not the bundle's: its decoder.onnx must decode alike."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(bundle / DECODER_FILE), providers=["CPUExecutionProvider"])
    z = np.random.default_rng(0).standard_normal((4, decoder.inputs[0].shape[1]))
    feed = dict(zip([i.name for i in session.get_inputs()], [z.astype(np.float32), one_hot(
        [0, 3, 6, 9])], strict=True))  # fmt: skip
    gap = np.abs(session.run(None, feed)[0] - decoder.predict(list(feed.values()), verbose=0))
    if gap.max() > 1e-3:
        raise ValueError(f"{bundle}: the weights do not decode as its decoder.onnx does")


def export_decoder(decoder: keras.Model, base: Path, out: Path, facts: dict) -> None:
    """Copy the base bundle to `out` and swap in the fine-tuned decoder.onnx (same input
    names and shapes as training/models/export.py), its hash, and what was done in `training`."""
    meta = read_meta(base)
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(base, out)
    to_onnx(decoder, {"z": (meta.model.latent_dim,), "digit": (N_DIGITS,)}, out / DECODER_FILE)
    meta.files[DECODER_FILE] = file_entry(out / DECODER_FILE)
    meta.name = out.name
    meta.training["adversarial"] = facts
    write_meta(out, meta)
    read_meta(out)  # verifies the hashes


def run(base: Path, weights: Path, data: Path, out: Path, config: AdversarialConfig,
        cache_dir: Path) -> dict:  # fmt: skip
    """Fine-tune the base bundle's decoder on its training split and export a bundle."""
    keras.utils.set_random_seed(config.seed)
    meta = read_meta(base)
    contract = meta.contract_params()
    dataset = load_dataset(data, "fsdd", contract, cache_dir)
    dataset = dataset.subset(length_filter(dataset.lengths))  # as training/models/fit.py
    split = speaker_split(dataset.speakers, dataset.digits, meta.training["test_speakers"],
                          seed=meta.training.get("seed", 42))  # fmt: skip
    vae = load_vae(weights, contract.image_shape, meta.model.latent_dim)
    vae.encoder.trainable = False
    check_matches(vae.decoder, base)
    train, val = dataset.subset(split.train), dataset.subset(split.val)
    z_mean, z_log_var = (np.asarray(a) for a in vae.encoder.predict(
        [train.images, one_hot(train.digits)], batch_size=64, verbose=0))  # fmt: skip

    def val_rec() -> float:
        z, _ = vae.encoder.predict([val.images, one_hot(val.digits)], verbose=0)
        decoded = vae.decoder.predict([z, one_hot(val.digits)], verbose=0)
        return float(reconstruction_loss(val.images, decoded))

    before = val_rec()
    trainer = AdversarialTrainer(vae.decoder, config, contract.image_shape, contract.band_bins)
    started = time.monotonic()
    history = fine_tune(trainer, train.images, train.digits, z_mean, z_log_var)
    seconds = time.monotonic() - started
    last = history[-50:]
    facts = {
        "base": str(base),
        "config": asdict(config),
        "steps": len(history),
        "seconds": round(seconds, 1),
        "val_reconstruction": {"before": before, "after": val_rec()},  # z = z_mean
        "last_50_steps": {
            k: float(np.mean([h[k] for h in last if k in h]))
            for k in ("d_loss", "d_accuracy", "rec", "adv", "fm")
        },  # fmt: skip
    }
    export_decoder(vae.decoder, base, out, facts)
    run_dir = Path("runs") / out.name  # beside fit's checkpoints, not in the bundle
    run_dir.mkdir(parents=True, exist_ok=True)
    vae.decoder.save_weights(run_dir / "decoder.weights.h5")
    (run_dir / "adversarial-history.json").write_text(json.dumps(history))
    log.info("exported %s: %s", out, facts)
    return facts
