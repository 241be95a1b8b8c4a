"""Signed voice ids: a voice made from an upload travels as its own id, nothing is stored.

    "v1." + base64url(payload + tag), payload = version | model digest | f0 | style

- version (1 byte) and the model digest (8 bytes: SHA-256 of `Synthesizer.model_id`), so a
  replica serving another model refuses the id instead of speaking nonsense;
- f0: the voice's pitch in Hz (float32);
- style: the voice's latent offset [latent_dim] as float16 (a step of about 1e-3 near 1;
  decoded clips differ by less than their seed-to-seed spread);
- tag: HMAC-SHA256 of the payload keyed by AUDIOVAE_VOICE_SECRET, first 16 bytes (128
  bits: forging one is as hard as guessing a random 128-bit key).

A 16-dimensional latent makes an 82-character id. Built-in ids (`[a-z0-9_-]`) never
contain a dot, so the two kinds cannot be confused.
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

PREFIX = "v1."
VERSION = 1
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
    style: np.ndarray  # float32 [latent_dim]


def model_digest(model_id: str) -> bytes:
    return hashlib.sha256(model_id.encode()).digest()[:DIGEST_BYTES]


class VoiceSigner:
    """Makes and checks the ids of one model under one secret."""

    def __init__(self, secret: bytes, model_id: str, latent_dim: int) -> None:
        if not secret:
            raise ValueError("the voice secret is empty")
        self._key = secret
        self.model_id = model_id
        self.digest = model_digest(model_id)
        self.latent_dim = latent_dim
        self.size = _HEAD.size + 2 * latent_dim + TAG_BYTES

    def _tag(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:TAG_BYTES]

    def sign(self, token: VoiceToken) -> str:
        style = np.asarray(token.style, dtype=np.float32)
        if style.shape != (self.latent_dim,) or not np.all(np.isfinite(style)):
            raise ValueError(f"a voice style is {self.latent_dim} finite numbers")
        payload = _HEAD.pack(VERSION, self.digest, token.f0_hz) + style.astype("<f2").tobytes()
        data = payload + self._tag(payload)
        return PREFIX + base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")

    def verify(self, voice_id: str) -> VoiceToken:
        """The voice an id carries, or VoiceIdError saying what is wrong with it."""
        if not voice_id.startswith(PREFIX):
            raise VoiceIdError("not a voice id (they start with 'v1.')")
        body = voice_id[len(PREFIX) :]
        # Strictly: the stdlib decoder would skip characters outside the alphabet.
        if not _BASE64URL.fullmatch(body):
            raise VoiceIdError("not a voice id: not base64url")
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
        style = np.frombuffer(payload[_HEAD.size :], dtype="<f2").astype(np.float32)
        if not (np.isfinite(f0_hz) and f0_hz > 0 and np.all(np.isfinite(style))):
            raise VoiceIdError("the voice id holds non-finite values")
        return VoiceToken(f0_hz=float(f0_hz), style=style)
