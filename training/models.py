"""VAE models in Keras 3, in the style of keras-io's VAE example.

Every encoder maps an image [N, bins, frames] to (z_mean, z_log_var); every decoder maps
z [N, latent] back to an image [N, bins, frames] in [0, 1]. The service only sees those
two signatures (as ONNX), so new architectures plug in by adding a builder to BUILDERS.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
from keras import layers, ops

# The study's MLP: 17,733 -> 1024 -> 512 -> 256 -> z (2) -> 256 -> 512 -> 1024 -> 17,733.
STUDY_WIDTHS = (1024, 512, 256)


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


class VAE(keras.Model):
    """Encoder + sampler + decoder, trained on 'pixels x BCE + KL' (the study's loss)."""

    def __init__(
        self, encoder: keras.Model, decoder: keras.Model, seed: int | None = None, **kwargs
    ) -> None:
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.sampling = Sampling(seed=seed)
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")

    def call(self, images, training: bool = False):
        z_mean, z_log_var = self.encoder(images, training=training)
        z = self.sampling([z_mean, z_log_var])
        return self.decoder(z, training=training), z_mean, z_log_var

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        reconstruction, z_mean, z_log_var = y_pred
        # BCE summed over all pixels (= pixels x mean BCE, as in the study).
        bce = keras.losses.binary_crossentropy(x[..., None], reconstruction[..., None])
        reconstruction_loss = ops.mean(ops.sum(bce, axis=(1, 2)))
        kl = -0.5 * (1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))
        kl_loss = ops.mean(ops.sum(kl, axis=1))
        self.reconstruction_tracker.update_state(reconstruction_loss)
        self.kl_tracker.update_state(kl_loss)
        return reconstruction_loss + kl_loss

    @property
    def metrics(self):
        return [*super().metrics, self.reconstruction_tracker, self.kl_tracker]


def build_mlp(
    image_shape: tuple[int, int], latent_dim: int, widths: tuple[int, ...], seed: int
) -> VAE:
    return VAE(
        build_mlp_encoder(image_shape, latent_dim, widths),
        build_mlp_decoder(image_shape, latent_dim, widths),
        seed=seed,
    )


BUILDERS: dict[str, Callable[..., VAE]] = {"mlp": build_mlp}
