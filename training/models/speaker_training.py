"""Training the speaker-conditioned VAE (training/models/speaker_vae.py): each clip is
reconstructed from its content latent, its digit and the speaker embedding of ANOTHER clip
of the same speaker, so the embedding can only carry who speaks."""

from __future__ import annotations

import logging
import time

import keras
import numpy as np
import tensorflow as tf

from training.models.speaker_vae import N_DIGITS, SpeakerVAE

log = logging.getLogger(__name__)


@tf.custom_gradient
def reverse_gradient(x):
    """Identity forward; the gradient's sign flipped backward (Ganin & Lempitsky, 2015)."""
    return tf.identity(x), lambda dy: -dy


def reference_pairs(speakers: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For each clip i, the index of another clip of the same speaker chosen at random (i
    itself only for a speaker with one clip)."""
    refs = np.arange(len(speakers))
    for s in np.unique(speakers):
        idx = np.flatnonzero(speakers == s)
        if len(idx) < 2:
            continue
        pick = rng.integers(0, len(idx) - 1, size=len(idx))
        pick = pick + (pick >= np.arange(len(idx)))  # skip the clip itself
        refs[idx] = idx[pick]
    return refs


def _losses(model: SpeakerVAE, images, digits, refs, labels, beta, training: bool):
    z_mean, z_log_var = model.encoder([images, digits], training=training)
    eps = tf.random.normal(tf.shape(z_mean))
    z = z_mean + tf.exp(0.5 * z_log_var) * eps if training else z_mean
    embedding = model.speaker_encoder(refs, training=training)
    recon = model.decoder([z, digits, embedding], training=training)
    bce = keras.losses.binary_crossentropy(images[..., None], recon[..., None])
    rec = tf.reduce_mean(tf.reduce_sum(bce, axis=(1, 2)))
    kl = tf.reduce_mean(tf.reduce_sum(
        -0.5 * (1 + z_log_var - tf.square(z_mean) - tf.exp(z_log_var)), axis=1))  # fmt: skip
    centres = tf.math.l2_normalize(model.head.trainable_weights[0], axis=0)
    logits = 10.0 * tf.matmul(embedding, centres)
    ce = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits))
    acc = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1, output_type=tf.int32), labels),
                                 tf.float32))  # fmt: skip
    total = rec + beta * kl + model.config.gamma * ce
    adv_acc = tf.constant(0.0)
    if model.adversary is not None:
        adv_logits = model.adversary(reverse_gradient(z_mean), training=training)
        adv_ce = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, adv_logits))
        adv_acc = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(adv_logits, 1, output_type=tf.int32),
                                                  labels), tf.float32))  # fmt: skip
        total = total + model.config.adversary * adv_ce
    return total, rec, kl, ce, acc, adv_acc


def train(
    model: SpeakerVAE,
    images: np.ndarray,
    digits: np.ndarray,
    speakers: np.ndarray,
    val: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    checkpoint: str | None = None,
) -> dict:
    """Fit on (images [N, bins, frames], digits [N], speaker labels [N] as strings); each
    epoch draws new reference clips. `val` (images, digits, speakers of the training set's
    speakers' other clips) picks the best epoch by its reconstruction loss. Returns the
    history and the best epoch; the best weights are restored."""
    config = model.config
    rng = np.random.default_rng(config.seed)
    names, labels = np.unique(speakers, return_inverse=True)
    labels = labels.astype(np.int32)
    one_hot = np.eye(N_DIGITS, dtype=np.float32)
    params = (model.encoder.trainable_weights + model.speaker_encoder.trainable_weights
              + model.decoder.trainable_weights + model.head.trainable_weights
              + (model.adversary.trainable_weights if model.adversary else []))  # fmt: skip
    optimizer = keras.optimizers.Adam(config.learning_rate)
    beta_var = tf.Variable(0.0, trainable=False)

    @tf.function(reduce_retracing=True)
    def step(x, d, r, y):
        with tf.GradientTape() as tape:
            losses = _losses(model, x, d, r, y, beta_var, True)
        grads = tape.gradient(losses[0], params)
        optimizer.apply_gradients(zip(grads, params, strict=True))
        return tf.stack(list(losses))

    @tf.function(reduce_retracing=True)
    def evaluate(x, d, r, y):
        return tf.stack(list(_losses(model, x, d, r, y, 1.0, False)))

    if val is not None:
        v_images, v_digits, v_speakers = val
        label_of = {s: i for i, s in enumerate(names)}
        v_labels = np.array([label_of[s] for s in v_speakers], np.int32)
        # references for validation: a training clip of the same speaker, fixed
        v_refs = np.array([rng.choice(np.flatnonzero(speakers == s)) for s in v_speakers])
    history: dict[str, list[float]] = {k: [] for k in
        ("loss", "reconstruction", "kl", "speaker_ce", "speaker_acc", "adversary_acc",
         "val_reconstruction",
         "val_elbo", "val_speaker_acc", "seconds")}  # fmt: skip
    best, best_epoch, weights = np.inf, 0, None
    started, longest = time.monotonic(), 0.0
    n, bs = len(images), config.batch_size
    for epoch in range(config.epochs):
        t0 = time.monotonic()
        beta_var.assign(config.beta * min(1.0, (epoch + 1) / (config.kl_warmup + 1)))
        order = rng.permutation(n)
        refs = reference_pairs(speakers, rng)
        sums = np.zeros(6)
        batches = 0
        for i in range(0, n - bs + 1, bs):
            b = order[i : i + bs]
            out = step(images[b], one_hot[digits[b]], images[refs[b]], labels[b]).numpy()
            sums += out
            batches += 1
        means = sums / batches
        for k, v in zip(("loss", "reconstruction", "kl", "speaker_ce", "speaker_acc",
                         "adversary_acc"), means,
                        strict=True):  # fmt: skip
            history[k].append(float(v))
        if val is not None:
            vals = []
            for i in range(0, len(v_images), 256):
                s = slice(i, i + 256)
                out = evaluate(v_images[s], one_hot[v_digits[s]], images[v_refs[s]],
                               v_labels[s]).numpy()  # fmt: skip
                vals.append(out * len(v_images[s]))
            v = np.sum(vals, axis=0) / len(v_images)
            history["val_reconstruction"].append(float(v[1]))
            history["val_elbo"].append(float(v[1] + v[2]))
            history["val_speaker_acc"].append(float(v[4]))
            score = v[1] + v[2]
        else:
            score = means[1] + means[2]
        seconds = time.monotonic() - t0
        history["seconds"].append(seconds)
        log.info("epoch %d (%.0f s): %s", epoch + 1, seconds,
                 {k: round(h[-1], 3) for k, h in history.items() if h})  # fmt: skip
        if score < best:
            best, best_epoch = score, epoch + 1
            weights = [m.get_weights() for m in (model.encoder, model.speaker_encoder,
                                                 model.decoder, model.head)]  # fmt: skip
            if checkpoint:
                for m in (model.encoder, model.speaker_encoder, model.decoder):
                    m.save_weights(f"{checkpoint}.{m.name}.weights.h5")
        longest = max(longest, seconds)
        budget = None if config.minutes is None else 60 * config.minutes
        if budget is not None and time.monotonic() - started + longest > budget:
            log.info("time budget: stopping after epoch %d", epoch + 1)
            break
    if weights is not None:
        for m, w in zip((model.encoder, model.speaker_encoder, model.decoder, model.head), weights,
                        strict=True):  # fmt: skip
            m.set_weights(w)
    return {"history": history, "best_epoch": best_epoch, "speakers": names.tolist(),
            "seconds": round(time.monotonic() - started, 1)}  # fmt: skip
