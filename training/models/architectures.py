"""VAE models in Keras 3, in the style of keras-io's VAE example.

Every encoder maps an image [N, bins, frames] to (z_mean, z_log_var); every decoder maps
z [N, latent] back to an image [N, bins, frames] in [0, 1]. A conditional model takes the
digit as a second input ([N, 10] one-hot) on both sides. The service only sees those
signatures (as ONNX), so new architectures plug in by adding a builder to BUILDERS.

- mlp:  the study's dense VAE on the flattened image.
- conv: strided convolutions; the 257 x 69 image is zero-padded to a multiple of 8
        (264 x 72) inside the encoder and the decoder's output cropped back, so the
        contract is unchanged.
- cvae: the conv VAE with the digit given to encoder and decoder.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np
from keras import layers, ops

# The study's MLP: 17,733 -> 1024 -> 512 -> 256 -> z (2) -> 256 -> 512 -> 1024 -> 17,733.
STUDY_WIDTHS = (1024, 512, 256)
N_DIGITS = 10


class Sampling(layers.Layer):
    """Reparameterisation: z = mean + exp(log_var / 2) * eps, eps ~ N(0, I)."""

    def __init__(self, seed: int | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        eps = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * eps


def build_mlp_encoder(
    image_shape: tuple[int, int], latent_dim: int, widths: tuple[int, ...]
) -> keras.Model:
    image = keras.Input(shape=image_shape, name="image")
    x = layers.Flatten()(image)
    for width in widths:
        x = layers.Dense(width, activation="relu")(x)
    z_mean = layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
    return keras.Model(image, [z_mean, z_log_var], name="encoder")


def build_mlp_decoder(
    image_shape: tuple[int, int], latent_dim: int, widths: tuple[int, ...]
) -> keras.Model:
    z = keras.Input(shape=(latent_dim,), name="z")
    x = z
    for width in reversed(widths):
        x = layers.Dense(width, activation="relu")(x)
    x = layers.Dense(image_shape[0] * image_shape[1], activation="sigmoid")(x)
    image = layers.Reshape(image_shape, name="image")(x)
    return keras.Model(z, image, name="decoder")


def one_hot(digits) -> np.ndarray:
    return np.eye(N_DIGITS, dtype=np.float32)[np.asarray(digits, dtype=np.int64)]


def _padding(image_shape: tuple[int, int], stride: int) -> tuple[int, int]:
    """Rows and columns to add so both sides divide by `stride` (257 x 69 -> 264 x 72)."""
    return (-image_shape[0]) % stride, (-image_shape[1]) % stride


def build_conv_encoder(
    image_shape: tuple[int, int], latent_dim: int, widths: tuple[int, ...], conditional: bool
) -> keras.Model:
    image = keras.Input(shape=image_shape, name="image")
    pad_rows, pad_cols = _padding(image_shape, 2 ** len(widths))
    x = layers.Reshape((*image_shape, 1))(image)
    x = layers.ZeroPadding2D(((0, pad_rows), (0, pad_cols)))(x)
    for filters in widths:
        x = layers.Conv2D(filters, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Flatten()(x)
    inputs = [image]
    if conditional:
        digit = keras.Input(shape=(N_DIGITS,), name="digit")
        x, inputs = layers.Concatenate()([x, digit]), [image, digit]
    z_mean = layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
    return keras.Model(inputs if conditional else image, [z_mean, z_log_var], name="encoder")


def build_conv_decoder(
    image_shape: tuple[int, int], latent_dim: int, widths: tuple[int, ...], conditional: bool
) -> keras.Model:
    stride = 2 ** len(widths)
    pad_rows, pad_cols = _padding(image_shape, stride)
    rows, cols = (image_shape[0] + pad_rows) // stride, (image_shape[1] + pad_cols) // stride
    z = keras.Input(shape=(latent_dim,), name="z")
    inputs, x = [z], z
    if conditional:
        digit = keras.Input(shape=(N_DIGITS,), name="digit")
        x, inputs = layers.Concatenate()([z, digit]), [z, digit]
    x = layers.Dense(rows * cols * widths[-1], activation="relu")(x)
    x = layers.Reshape((rows, cols, widths[-1]))(x)
    for filters in reversed(widths[:-1]):
        x = layers.Conv2DTranspose(filters, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Conv2DTranspose(1, 3, strides=2, padding="same", activation="sigmoid")(x)
    x = layers.Cropping2D(((0, pad_rows), (0, pad_cols)))(x)
    image = layers.Reshape(image_shape, name="image")(x)
    return keras.Model(inputs if conditional else z, image, name="decoder")


class VAE(keras.Model):
    """Encoder + sampler + decoder, trained on 'pixels x BCE + beta x KL' (the study's loss
    with beta = 1). A conditional VAE is called with (images, digits one-hot).

    `beta` is a variable so a callback can anneal it; `elbo` (BCE + KL, beta 1) is tracked
    apart from the loss, so epochs stay comparable while beta changes."""

    def __init__(
        self,
        encoder: keras.Model,
        decoder: keras.Model,
        seed: int | None = None,
        conditional: bool = False,
        beta: float = 1.0,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.conditional = conditional
        self.beta = keras.Variable(beta, trainable=False, name="beta")
        self.sampling = Sampling(seed=seed)
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")
        self.elbo_tracker = keras.metrics.Mean(name="elbo")

    def call(self, inputs, training: bool = False):
        if self.conditional:
            images, digits = inputs
            z_mean, z_log_var = self.encoder([images, digits], training=training)
            z = self.sampling([z_mean, z_log_var])
            return self.decoder([z, digits], training=training), z_mean, z_log_var
        z_mean, z_log_var = self.encoder(inputs, training=training)
        z = self.sampling([z_mean, z_log_var])
        return self.decoder(z, training=training), z_mean, z_log_var

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        reconstruction, z_mean, z_log_var = y_pred
        # BCE summed over all pixels (= pixels x mean BCE, as in the study); y is the image.
        bce = keras.losses.binary_crossentropy(y[..., None], reconstruction[..., None])
        reconstruction_loss = ops.mean(ops.sum(bce, axis=(1, 2)))
        kl = -0.5 * (1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))
        kl_loss = ops.mean(ops.sum(kl, axis=1))
        self.reconstruction_tracker.update_state(reconstruction_loss)
        self.kl_tracker.update_state(kl_loss)
        self.elbo_tracker.update_state(reconstruction_loss + kl_loss)
        return reconstruction_loss + self.beta * kl_loss

    @property
    def metrics(self):
        return [*super().metrics, self.reconstruction_tracker, self.kl_tracker, self.elbo_tracker]


class KLWarmUp(keras.callbacks.Callback):
    """beta rises linearly from 0 to `beta` over the first `epochs` epochs."""

    def __init__(self, beta: float, epochs: int) -> None:
        super().__init__()
        self.target, self.epochs = beta, epochs

    def on_epoch_begin(self, epoch, logs=None):
        self.model.beta.assign(self.target * min(1.0, (epoch + 1) / (self.epochs + 1)))


def build_mlp(
    image_shape: tuple[int, int], latent_dim: int, widths: tuple[int, ...], seed: int, **kw
) -> VAE:
    return VAE(
        build_mlp_encoder(image_shape, latent_dim, widths),
        build_mlp_decoder(image_shape, latent_dim, widths),
        seed=seed,
        **kw,
    )


def build_conv(
    image_shape: tuple[int, int], latent_dim: int, widths: tuple[int, ...], seed: int, **kw
) -> VAE:
    return VAE(
        build_conv_encoder(image_shape, latent_dim, widths, conditional=False),
        build_conv_decoder(image_shape, latent_dim, widths, conditional=False),
        seed=seed,
        **kw,
    )


def build_cvae(
    image_shape: tuple[int, int], latent_dim: int, widths: tuple[int, ...], seed: int, **kw
) -> VAE:
    return VAE(
        build_conv_encoder(image_shape, latent_dim, widths, conditional=True),
        build_conv_decoder(image_shape, latent_dim, widths, conditional=True),
        seed=seed,
        conditional=True,
        **kw,
    )


BUILDERS: dict[str, Callable[..., VAE]] = {"mlp": build_mlp, "conv": build_conv, "cvae": build_cvae}
CONDITIONAL = {"cvae"}
# Default hidden widths (MLP: dense units; conv: filters per stride-2 convolution).
DEFAULT_WIDTHS = {"mlp": STUDY_WIDTHS, "conv": (16, 32, 64), "cvae": (16, 32, 64)}
