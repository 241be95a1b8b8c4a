"""Signed voice ids: a voice made from an upload travels as its own id, nothing is stored.

    "v2." + base64url(payload + tag), payload = version | model digest | f0 | weights | style

- version (1 byte) and the model digest (8 bytes: SHA-256 of `Synthesizer.model_id`), so a
  replica serving another model refuses the id instead of speaking nonsense;
- f0: the voice's pitch in Hz (float32);
- weights: how much of each built-in voice the voice is made of [voices] as float16;
- style: the voice's latent offset from that blend [latent_dim] as float16 (a step of about
  1e-3 near 1; decoded clips differ by less than their seed-to-seed spread);
- tag: HMAC-SHA256 of the payload keyed by AUDIOVAE_VOICE_SECRET, first 16 bytes (128
  bits: forging one is as hard as guessing a random 128-bit key).

Five voices and a 16-dimensional latent make a 98-character id. Built-in ids
(`[a-z0-9_-]`) never contain a dot, so the two kinds cannot be confused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import struct
from dataclasses import dataclass

import numpy as np

PREFIX = "v2."
VERSION = 2
TAG_BYTES = 16
DIGEST_BYTES = 8
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
_HEAD = struct.Struct("<B8sf")  # version, model digest, f0_hz


class VoiceIdError(ValueError):
    """The id is not one this server made for this model (a 4xx, never a 5xx)."""


@dataclass(frozen=True)
class VoiceToken:
    """What a signed id carries."""

    f0_hz: float
    weights: np.ndarray  # float32 [voices]: the built-in voices it is made of
    style: np.ndarray  # float32 [latent_dim]: its offset from their blend


def model_digest(model_id: str) -> bytes:
    return hashlib.sha256(model_id.encode()).digest()[:DIGEST_BYTES]


class VoiceSigner:
    """Makes and checks the ids of one model under one secret."""

    def __init__(self, secret: bytes, model_id: str, latent_dim: int, voices: int = 0) -> None:
        if not secret:
            raise ValueError("the voice secret is empty")
        self._key = secret
        self.model_id = model_id
        self.digest = model_digest(model_id)
        self.latent_dim, self.voices = latent_dim, voices
        self.size = _HEAD.size + 2 * (voices + latent_dim) + TAG_BYTES

    def _tag(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:TAG_BYTES]

    def sign(self, token: VoiceToken) -> str:
        weights = np.asarray(token.weights, dtype=np.float32)
        style = np.asarray(token.style, dtype=np.float32)
        if weights.shape != (self.voices,) or not np.all(np.isfinite(weights)):
            raise ValueError(f"a voice's weights are {self.voices} finite numbers")
        if style.shape != (self.latent_dim,) or not np.all(np.isfinite(style)):
            raise ValueError(f"a voice style is {self.latent_dim} finite numbers")
        values = np.concatenate([weights, style]).astype("<f2").tobytes()
        payload = _HEAD.pack(VERSION, self.digest, token.f0_hz) + values
        data = payload + self._tag(payload)
        return PREFIX + base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")

    def verify(self, voice_id: str) -> VoiceToken:
        """The voice an id carries, or VoiceIdError saying what is wrong with it."""
        if voice_id.startswith("v1."):
            raise VoiceIdError("a v1 voice id, from an older server: make the voice again")
        if not voice_id.startswith(PREFIX):
            raise VoiceIdError(f"not a voice id (they start with '{PREFIX}')")
        body = voice_id[len(PREFIX) :]
        # Strictly: the stdlib decoder would skip characters outside the alphabet.
        if not _BASE64URL.fullmatch(body):
            raise VoiceIdError("not a voice id: not base64url")
        if len(body) % 4 == 1:  # no byte string encodes to this length: cut short
            raise VoiceIdError("not a voice id of this model: wrong length (truncated?)")
        try:
            data = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (binascii.Error, ValueError):
            raise VoiceIdError("not a voice id: not base64url") from None
        if len(data) != self.size:
            raise VoiceIdError("not a voice id of this model: wrong length (truncated?)")
        payload, tag = data[:-TAG_BYTES], data[-TAG_BYTES:]
        # The tag first, in constant time: nothing an id claims is believed before it.
        if not hmac.compare_digest(tag, self._tag(payload)):
            raise VoiceIdError("the voice id's signature does not match: altered, forged, or "
                               "made by a server with another secret")  # fmt: skip
        version, digest, f0_hz = _HEAD.unpack_from(payload)
        if version != VERSION:
            raise VoiceIdError(f"voice id version {version}; this server reads {VERSION}")
        if digest != self.digest:
            raise VoiceIdError(f"the voice id was made for another model, not {self.model_id}")
        values = np.frombuffer(payload[_HEAD.size :], dtype="<f2").astype(np.float32)
        if not (np.isfinite(f0_hz) and f0_hz > 0 and np.all(np.isfinite(values))):
            raise VoiceIdError("the voice id holds non-finite values")
        weights, style = values[: self.voices], values[self.voices :]
        return VoiceToken(f0_hz=float(f0_hz), weights=weights, style=style)
