"""The judge: a small CNN digit classifier on the contract's [0, 1] images.

It is trained on real recordings only, on some speakers, and tested on held-out speakers
(the same speakers the VAEs never hear). It only ever measures VAEs; it is never a loss or
a signal while training one.

    python -m training classifier --data ../shared/data/fsdd --test-speakers theo \
        --out models/judge

writes models/judge/classifier.onnx (input "image" [N, bins, frames]; outputs "logits"
[N, 10] and "embedding" [N, EMBED], the penultimate layer used for Frechet distances) and
models/judge/judge.json (split, accuracy, contract). A copy with the logits output only
goes into a conditional bundle, so the service can infer the digit of an upload.

Speaker generalisation comes from a fixed mel front end (pitch harmonics averaged away) and
frequency-warp / time-stretch augmentation; per-utterance mean removal (norm "cmn") and
the plain STFT front end stay available but measured worse on held-out speakers. `augment`
K > 0 adds K waveform-augmented copies of each training clip (training/data/augment.py: voice,
room, noise) before the image-level augmentation, for voices outside FSDD.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path

import keras
import librosa
import numpy as np
import onnx
import tensorflow as tf
import tf2onnx
from keras import layers

from app.audio.contract import Contract
from app.synthesis.bundle import sha256_file
from training.data.augment import AugmentConfig
from training.data.dataset import list_clips, load_dataset, speaker_split
from training.data.widen import Widening, added_training

log = logging.getLogger(__name__)

JUDGE_FILE = "classifier.onnx"
JUDGE_META = "judge.json"
EMBED = 32
BINS = 128  # the judge looks at 0-5.5 kHz
MELS = 40
# The JudgeConfig fields that shape the judge, recorded in judge.json.
RECIPE = ("frontend", "norm", "warp", "stretch", "augment")
OPSET = 17


@dataclass
class JudgeConfig:
    data: Path
    layout: str = "fsdd"
    out: Path = Path("models/judge")
    test_speakers: tuple[str, ...] = ("theo",)
    epochs: int = 25
    batch_size: int = 32
    learning_rate: float = 1e-3
    seed: int = 7
    # Per-utterance normalisation inside the graph: "none", "cmn" (mean over time per
    # frequency bin removed) or "cmvn" (and divided by the standard deviation).
    norm: str = "none"
    frontend: str = "mel"  # "linear": STFT bins pooled in pairs; "mel": MELS mel bands
    warp: float = 0.1  # frequency axis stretched by up to +-warp (vocal tract length)
    stretch: float = 0.15  # time axis stretched by up to +-stretch (speaking rate)
    augment: int = 0  # waveform-augmented copies of each training clip (training/data/augment.py)
    augment_config: AugmentConfig = field(default_factory=AugmentConfig)
    extra_data: tuple[tuple[Path, str], ...] = ()  # (root, layout): training clips only
    cache_dir: Path = Path(".cache/features")
    contract: Contract = field(default_factory=Contract)


def _mel_matrix(bins: int, sample_rate: int) -> np.ndarray:
    """[bins, MELS] triangular mel filters up to 5.5 kHz, each band's weights summing to 1
    (a weighted mean of the [0, 1] image, so the output stays in [0, 1])."""
    n_fft = 2 * (bins - 1)
    fmax = BINS * sample_rate / n_fft
    weights = librosa.filters.mel(sr=sample_rate, n_fft=n_fft, n_mels=MELS, fmax=fmax, norm=None)
    weights = weights / weights.sum(axis=1, keepdims=True)
    return weights.T.astype(np.float32)


def build_classifier(
    image_shape: tuple[int, int],
    norm: str = "none",
    frontend: str = "linear",
    sample_rate: int = 22050,
) -> keras.Model:
    """[N, bins, frames] -> (logits [N, 10], embedding [N, EMBED])."""
    image = keras.Input(shape=image_shape, name="image")
    if frontend == "mel":
        # Mel bands average the harmonics of each speaker's pitch away, keeping the
        # formants: a fixed (not trained) matrix over the 0-5.5 kHz bins.
        bands = _mel_matrix(image_shape[0], sample_rate)
        x = layers.Permute((2, 1))(image)
        dense = layers.Dense(bands.shape[1], use_bias=False, trainable=False, name="mel")
        x = layers.Permute((2, 1))(dense(x))
        dense.set_weights([bands])
        x = layers.Reshape((bands.shape[1], image_shape[1], 1))(x)
    elif frontend == "linear":
        x = layers.Reshape((*image_shape, 1))(image)
        # FSDD is recorded at 8 kHz: nothing lives above bin 93 of 257 (4 kHz at 22,050 Hz).
        x = layers.Cropping2D(((0, image_shape[0] - min(image_shape[0], BINS)), (0, 0)))(x)
        x = layers.AveragePooling2D((2, 1))(x)
    else:
        raise ValueError(f"unknown frontend {frontend!r}")
    if norm in ("cmn", "cmvn"):
        # Statistics over time (axis 2) per frequency bin: a speaker's or a microphone's
        # fixed spectral tilt is removed before any filter sees it.
        x = (
            layers.LayerNormalization(
                axis=2, center=False, scale=False, epsilon=1e-2, name="utterance_norm"
            )(x)
            if norm == "cmvn"
            else layers.Lambda(
                lambda t: t - keras.ops.mean(t, axis=2, keepdims=True), name="utterance_mean"
            )(x)
        )
    elif norm != "none":
        raise ValueError(f"unknown norm {norm!r}")
    # Flatten, not global pooling: where in frequency a pattern sits tells the vowels apart.
    for filters in (32, 64, 64):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(layers.Dropout(0.2)(x))
    embedding = layers.Dense(EMBED, activation="relu", name="embedding")(x)
    logits = layers.Dense(10, name="logits")(embedding)
    return keras.Model(image, [logits, embedding], name="judge")


def _resample(images: np.ndarray, factors: np.ndarray, axis: int) -> np.ndarray:
    """Stretch each image along `axis` (1 frequency, 2 time) by its factor, anchored at 0;
    linear interpolation, the floor (0) beyond the end."""
    n, size = len(images), images.shape[axis]
    source = np.arange(size)[None, :] / factors[:, None]  # [n, size]
    low = np.floor(source).astype(np.int64)
    frac = (source - low).astype(np.float32)
    valid = low + 1 < size
    low = np.clip(low, 0, size - 2)
    rows = np.arange(n)[:, None]
    if axis == 1:
        a, b = images[rows, low], images[rows, low + 1]  # [n, size, frames]
        frac, valid = frac[:, :, None], valid[:, :, None]
    else:
        moved = images.transpose(0, 2, 1)
        a = moved[rows, low].transpose(0, 2, 1)
        b = moved[rows, low + 1].transpose(0, 2, 1)
        frac, valid = frac[:, None, :], valid[:, None, :]
    return np.where(valid, a * (1 - frac) + b * frac, 0.0).astype(images.dtype)


def augment(
    images: np.ndarray,
    rng: np.random.Generator,
    warp: float = 0.0,
    stretch: float = 0.0,
) -> np.ndarray:
    """Random frequency warp and time stretch, then a time shift (the floor value,
    0, fills in) and one frequency and one time mask."""
    n, bins, frames = images.shape
    if warp > 0:
        images = _resample(images, rng.uniform(1 - warp, 1 + warp, n), axis=1)
    if stretch > 0:
        images = _resample(images, rng.uniform(1 - stretch, 1 + stretch, n), axis=2)
    out = np.zeros_like(images)
    for i, image in enumerate(images):
        shift = int(rng.integers(-8, 9))
        if shift >= 0:
            out[i, :, shift:] = image[:, : frames - shift]
        else:
            out[i, :, :shift] = image[:, -shift:]
        f0, fw = int(rng.integers(0, bins)), int(rng.integers(0, 16))
        t0, tw = int(rng.integers(0, frames)), int(rng.integers(0, 6))
        out[i, f0 : f0 + fw] = 0.0
        out[i, :, t0 : t0 + tw] = 0.0
    return out


def train_classifier(config: JudgeConfig) -> tuple[keras.Model, dict]:
    keras.utils.set_random_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    data = load_dataset(config.data, config.layout, config.contract, config.cache_dir)
    split = speaker_split(data.speakers, data.digits, list(config.test_speakers), seed=config.seed)
    x, y = data.images, data.digits
    x_train, y_train = x[split.train], y[split.train]
    clips = list_clips(config.data, config.layout)  # the order load_dataset used
    widening = Widening(config.extra_data, config.augment, config.augment_config, config.seed)
    added, added_facts = added_training(
        [clips[i] for i in split.train], {c.path.name for c in clips}, widening,
        config.contract, config.cache_dir, config.test_speakers, length_filter_on=False,
    )  # fmt: skip
    if added is not None:
        x_train = np.concatenate([x_train, added.images])
        y_train = np.concatenate([y_train, added.digits])
    model = build_classifier(
        config.contract.image_shape,
        config.norm,
        config.frontend,
        config.contract.sample_rate,
    )
    trainer = keras.Model(model.input, model.output[0])
    trainer.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    history: dict[str, list[float]] = {}
    best, best_weights = -1.0, None
    for epoch in range(config.epochs):
        step = trainer.fit(
            augment(x_train, rng, config.warp, config.stretch),
            y_train,
            validation_data=(x[split.val], y[split.val]),
            batch_size=config.batch_size,
            epochs=epoch + 1,
            initial_epoch=epoch,
            shuffle=True,
            verbose=2 if not sys.stdout.isatty() else 1,
        ).history
        for key, values in step.items():
            history.setdefault(key, []).append(float(values[-1]))
        if step["val_accuracy"][-1] >= best:  # model selection on validation, never on test
            best, best_weights = step["val_accuracy"][-1], trainer.get_weights()
    trainer.set_weights(best_weights)

    def accuracy(index: np.ndarray) -> float:
        logits = np.asarray(trainer.predict(x[index], batch_size=128, verbose=0))
        return float(np.mean(logits.argmax(axis=1) == y[index]))

    facts = {
        "dataset": config.layout,
        "split": "speaker",
        "test_speakers": list(config.test_speakers),
        "clips": {"train": len(split.train), "val": len(split.val), "test": len(split.test)},
        "epochs": config.epochs,
        "seed": config.seed,
        "recipe": {k: getattr(config, k) for k in RECIPE},
        "augment_ranges": config.augment_config.to_dict() if config.augment else None,
        "extra_data": added_facts["extra_data"],
        "accuracy": {
            "train": accuracy(split.train),
            "val": accuracy(split.val),
            "test": accuracy(split.test),
        },
        "history": history,
    }
    return model, facts


def export_classifier(model: keras.Model, facts: dict, config: JudgeConfig) -> Path:
    config.out.mkdir(parents=True, exist_ok=True)
    path = config.out / JUDGE_FILE
    spec = (tf.TensorSpec((None, *config.contract.image_shape), tf.float32, name="image"),)
    model.output_names = ["logits", "embedding"]
    tf2onnx.convert.from_keras(model, input_signature=spec, opset=OPSET, output_path=str(path))
    meta = {
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "contract": config.contract.to_dict(),
        "embedding_dim": EMBED,
        "sha256": sha256_file(path),
        **facts,
    }
    (config.out / JUDGE_META).write_text(json.dumps(meta, indent=2) + "\n")
    return path


def logits_only(source: Path, dest: Path) -> None:
    """Copy the judge with its logits output only: the bundle's classifier.onnx interface."""
    model = onnx.load(str(source))
    keep = [o for o in model.graph.output if o.name == model.graph.output[0].name]
    del model.graph.output[:]
    model.graph.output.extend(keep)
    onnx.save(model, str(dest))


def read_judge(folder: Path) -> dict:
    meta = json.loads((folder / JUDGE_META).read_text())
    if sha256_file(folder / JUDGE_FILE) != meta["sha256"]:
        raise RuntimeError(f"{folder / JUDGE_FILE}: SHA-256 does not match {JUDGE_META}")
    return meta
