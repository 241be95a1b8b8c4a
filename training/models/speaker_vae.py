"""A VAE that separates what is said from who says it ("svae").

Three networks, all exported to ONNX:
- content encoder  (image [N, bins, frames], digit [N, 10]) -> z_mean, z_log_var [N, latent]
  (the cvae's conv encoder): what is said and its timing;
- speaker encoder  image [N, bins, frames] -> embedding [N, E] (unit length): who speaks.
  Convolutions, then a per-frame projection averaged over frames weighted by each frame's
  loudness, so it summarises the voice over the clip rather than the order of its sounds;
- decoder          (z, digit, speaker) -> image [N, bins, frames]; the digit and the
  speaker embedding enter at the first dense layer and again, tiled, at every resolution.

Training (end-to-end, no outside model): each clip is reconstructed from its own content
latent and the speaker embedding of a DIFFERENT clip of the same speaker, so the embedding
can only carry what the speaker's clips share (the voice), not what this clip says. A
speaker-classification head on the embedding (cross-entropy over the training speakers,
not exported) makes it discriminative across the hundreds of voices of the many-speaker
set. Loss = pixels x BCE + beta x KL + gamma x speaker CE.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import keras
from keras import layers, ops

from training.models.architectures import N_DIGITS, _padding

log = logging.getLogger(__name__)


@dataclass
class SpeakerModelConfig:
    latent_dim: int = 32
    embedding_dim: int = 64
    encoder_widths: tuple[int, ...] = (16, 32, 64)
    speaker_widths: tuple[int, ...] = (16, 32, 64)
    decoder_widths: tuple[int, ...] = (32, 64, 128)
    condition_channels: int = 16  # the (digit, speaker) projection tiled at each resolution
    band_rows: int | None = None  # image rows the nets see and make (None: all); above: 0
    # Weight of an adversary that tries to name the speaker from z_mean through a gradient
    # reversal (the encoder learns to hide who speaks from z); 0 = none.
    adversary: float = 0.0
    beta: float = 0.3
    kl_warmup: int = 3
    gamma: float = 20.0  # speaker cross-entropy weight (the BCE sum is ~2,000 per clip)
    learning_rate: float = 1e-3
    batch_size: int = 64
    epochs: int = 60
    minutes: float | None = 40.0
    seed: int = 42
    extra: dict = field(default_factory=dict)


class Tile2D(layers.Layer):
    """A vector [N, C] repeated over a [rows, cols] grid -> [N, rows, cols, C]."""

    def __init__(self, rows: int, cols: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.rows, self.cols = rows, cols

    def call(self, v):
        v = ops.expand_dims(ops.expand_dims(v, 1), 1)
        return ops.tile(v, (1, self.rows, self.cols, 1))

    def get_config(self):
        return {**super().get_config(), "rows": self.rows, "cols": self.cols}


class WeightedTimePool(layers.Layer):
    """(frames features [N, T, C], weights [N, T]) -> the weighted mean over T [N, C]."""

    def call(self, inputs):
        x, w = inputs
        w = w / (ops.sum(w, axis=1, keepdims=True) + 1e-6)
        return ops.sum(x * ops.expand_dims(w, -1), axis=1)


def band_rows(band_bins: int, stride: int) -> int:
    """Rows the networks work on: the contract's band (bins at or below band_hz), rounded up
    to a multiple of the stride. Rows above the band are the dB floor (0) in every image."""
    return -(-band_bins // stride) * stride


def _input_grid(image, image_shape, rows: int | None, stride: int):
    """[N, bins, frames] -> [N, rows, frames padded to the stride, 1]: the band's rows only
    (all rows padded to the stride when rows is None)."""
    bins, frames = image_shape
    pad_rows, pad_cols = _padding(image_shape, stride)
    x = layers.Reshape((*image_shape, 1))(image)
    if rows is None:
        return layers.ZeroPadding2D(((0, pad_rows), (0, pad_cols)))(x), bins + pad_rows
    if rows <= bins:
        x = layers.Cropping2D(((0, bins - rows), (0, 0)))(x)
    else:
        x = layers.ZeroPadding2D(((0, rows - bins), (0, 0)))(x)
    return layers.ZeroPadding2D(((0, 0), (0, pad_cols)))(x), rows


def build_content_encoder(
    image_shape: tuple[int, int], latent_dim: int, widths: tuple[int, ...], rows: int | None
) -> keras.Model:
    """The cvae's encoder (strided convolutions, digit beside the flattened features), on the
    band's rows only."""
    image = keras.Input(shape=image_shape, name="image")
    digit = keras.Input(shape=(N_DIGITS,), name="digit")
    x, _ = _input_grid(image, image_shape, rows, 2 ** len(widths))
    for filters in widths:
        x = layers.Conv2D(filters, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Concatenate()([layers.Flatten()(x), digit])
    z_mean = layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
    return keras.Model([image, digit], [z_mean, z_log_var], name="encoder")


def build_speaker_encoder(
    image_shape: tuple[int, int],
    embedding_dim: int,
    widths: tuple[int, ...],
    rows: int | None = None,
) -> keras.Model:
    bins, frames = image_shape
    image = keras.Input(shape=image_shape, name="image")
    stride = 2 ** len(widths)
    pad_rows, pad_cols = _padding(image_shape, stride)
    x, grid_rows = _input_grid(image, image_shape, rows, stride)
    for filters in widths:
        x = layers.Conv2D(filters, 3, strides=(2, 1), padding="same", activation="relu")(x)
    # [N, freq, T, C] -> per frame [N, T, freq x C]
    rows = grid_rows // stride
    x = layers.Permute((2, 1, 3))(x)
    x = layers.Reshape((frames + pad_cols, rows * widths[-1]))(x)
    x = layers.Dense(256, activation="relu")(x)
    x = layers.Dense(256, activation="relu")(x)
    # Frame weights: the frame's loudness (its peak in the [0, 1] image), sharpened, so the
    # padding and silence after a word count little.
    peak = layers.Lambda(lambda im: ops.max(im, axis=1))(image)  # [N, frames]
    peak = layers.ZeroPadding1D((0, pad_cols))(layers.Reshape((frames, 1))(peak))
    weight = layers.Lambda(lambda p: ops.power(p[..., 0], 8.0))(peak)
    pooled = WeightedTimePool()([x, weight])
    e = layers.Dense(embedding_dim)(pooled)
    e = layers.UnitNormalization(name="embedding")(e)
    return keras.Model(image, e, name="speaker_encoder")


def build_decoder(
    image_shape: tuple[int, int],
    latent_dim: int,
    embedding_dim: int,
    widths: tuple[int, ...],
    condition_channels: int,
    band: int | None = None,
) -> keras.Model:
    stride = 2 ** len(widths)
    pad_rows, pad_cols = _padding(image_shape, stride)
    grid_rows = image_shape[0] + pad_rows if band is None else band
    rows, cols = grid_rows // stride, (image_shape[1] + pad_cols) // stride
    z = keras.Input(shape=(latent_dim,), name="z")
    digit = keras.Input(shape=(N_DIGITS,), name="digit")
    speaker = keras.Input(shape=(embedding_dim,), name="speaker")
    condition = layers.Concatenate()([digit, speaker])
    x = layers.Concatenate()([z, condition])
    x = layers.Dense(rows * cols * widths[-1] // 2, activation="relu")(x)
    x = layers.Reshape((rows, cols, widths[-1] // 2))(x)

    def conditioned(x, r, c):
        tiled = Tile2D(r, c)(layers.Dense(condition_channels, activation="relu")(condition))
        return layers.Concatenate()([x, tiled])

    x = layers.Conv2D(widths[-1], 3, padding="same", activation="relu")(conditioned(x, rows, cols))
    r, c = rows, cols
    for filters in reversed(widths[:-1]):
        x = layers.Conv2DTranspose(filters, 3, strides=2, padding="same", activation="relu")(x)
        r, c = 2 * r, 2 * c
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(conditioned(x, r, c))
    x = layers.Conv2DTranspose(1, 3, strides=2, padding="same", activation="sigmoid")(x)
    if grid_rows >= image_shape[0]:
        x = layers.Cropping2D(((0, grid_rows - image_shape[0]), (0, pad_cols)))(x)
    else:  # the band's rows made, the rest of the image is the floor
        x = layers.Cropping2D(((0, 0), (0, pad_cols)))(x)
        x = layers.ZeroPadding2D(((0, image_shape[0] - grid_rows), (0, 0)))(x)
    image = layers.Reshape(image_shape, name="image")(x)
    return keras.Model([z, digit, speaker], image, name="decoder")


@dataclass
class SpeakerVAE:
    encoder: keras.Model
    speaker_encoder: keras.Model
    decoder: keras.Model
    head: keras.Model  # embedding -> speaker logits (training only)
    config: SpeakerModelConfig
    adversary: keras.Model | None = None  # z -> speaker logits (training only)

    def count_params(self) -> int:
        return int(sum(m.count_params() for m in (self.encoder, self.speaker_encoder,
                                                  self.decoder)))  # fmt: skip


def build(image_shape: tuple[int, int], n_speakers: int, config: SpeakerModelConfig) -> SpeakerVAE:
    rows = config.band_rows
    encoder = build_content_encoder(image_shape, config.latent_dim, config.encoder_widths, rows)
    speaker_encoder = build_speaker_encoder(image_shape, config.embedding_dim,
                                            config.speaker_widths, rows)  # fmt: skip
    decoder = build_decoder(image_shape, config.latent_dim, config.embedding_dim,
                            config.decoder_widths, config.condition_channels, rows)  # fmt: skip
    e = keras.Input(shape=(config.embedding_dim,))
    # A cosine classifier with a fixed scale: logits = 10 x cos(embedding, class centre).
    head = keras.Model(e, layers.Dense(n_speakers, use_bias=False)(e), name="speaker_head")
    adversary = None
    if config.adversary > 0:
        z = keras.Input(shape=(config.latent_dim,))
        h = layers.Dense(256, activation="relu")(z)
        h = layers.Dense(256, activation="relu")(h)
        adversary = keras.Model(z, layers.Dense(n_speakers)(h), name="adversary")
    return SpeakerVAE(encoder, speaker_encoder, decoder, head, config, adversary)
