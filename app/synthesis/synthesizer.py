"""Synthesis on one bundle's model (app/synthesis/model.py): new clips sampled in a voice, sequences
read out as one waveform (app/audio/sequences.py) and uploads reconstructed, all through the one
inversion stage (app/synthesis/inversion.py).

All methods are CPU-bound and synchronous; the web layer runs them off the event loop. A
conditional model's classifier.onnx infers the digit of an upload when the client does
not name one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np

from app.audio.contract import image_to_magnitude, peak_normalise, waveform_to_features
from app.audio.pitch import PitchTrack, track
from app.audio.sequences import read_out, silence, trim_silence
from app.audio.vocoder import (
    GRIFFIN_LIM,
    SOURCE_FILTER,
    Excitation,
    Harmonics,
    fill_unvoiced,
    fine_structure,
)
from app.synthesis.inversion import Inverter
from app.synthesis.model import BundleModel
from app.synthesis.options import SynthesisOptions
from app.synthesis.voices import SourceModel, Speaker, Voice, draw_speaker

log = logging.getLogger(__name__)

# The pitch of a bundle without voices (a typical FSDD speaker's), and of an upload with
# no voiced frame to read one from.
DEFAULT_F0_HZ = 120.0
# Uploads are trimmed of what is this far below their loudest frame before /reconstruct:
# the many-speaker set's clips, padded to 1 s, are trimmed so for training (DESIGN.md).
UPLOAD_TRIM_DB = 30.0


def excitation(heard: PitchTrack) -> Excitation:
    """A pitch track as the source-filter's excitation: unvoiced frames glide between their
    voiced neighbours' pitch (the default pitch when nothing is voiced)."""
    f0 = fill_unvoiced(heard.f0, heard.voiced, heard.median_f0() or DEFAULT_F0_HZ)
    return Excitation(f0=f0, voicing=heard.voiced.astype(np.float32))


class InputError(ValueError):
    """The client's audio cannot be used (silent, not finite, ...); maps to a 4xx."""


class Synthesizer(BundleModel):
    """Loads and verifies one bundle (`BundleModel`); generates and reconstructs waveforms."""

    def __init__(
        self,
        folder: Path,
        threads: int = 1,
        observe: Callable[[str, float], None] | None = None,
        gl_hop: int | None = None,
    ) -> None:
        super().__init__(folder, threads, observe)
        self.voices = [Voice.from_spec(v) for v in self.meta.voices]
        self.source = SourceModel(self.meta.vocoder) if self.meta.vocoder else None
        self.inverter = Inverter(self.contract, self.source, gl_hop, self._stage)

    @property
    def gl_hop(self) -> int:
        """Griffin-Lim's synthesis hop (the contract's unless one was given)."""
        return self.inverter.gl_hop

    def warm_up(self) -> None:
        """Run every path once so the first request does not pay for lazy initialisation."""
        digit = 0 if self.conditional else None
        silence_free = np.sin(np.linspace(0, 400, self.contract.clip_samples)).astype(np.float32)
        for vocoder in (GRIFFIN_LIM, SOURCE_FILTER) if self.source else (GRIFFIN_LIM,):
            self.generate([0], seed=0, gl_iters=2, vocoder=vocoder)
            self.reconstruct(silence_free, gl_iters=2, digit=digit, vocoder=vocoder)

    def vocoder_for(self, requested: str | None) -> str:
        """The vocoder a request gets: the one asked for, else the best the bundle has."""
        if requested == SOURCE_FILTER and self.source is None:
            raise InputError("this bundle has no source-filter model: use vocoder=griffinlim")
        return requested or (SOURCE_FILTER if self.source is not None else GRIFFIN_LIM)

    def draw_speaker(self, seed: int, voice: Voice | None = None) -> Speaker | None:
        """The voice (the one asked for, else one the seed picks) and the base pitch the
        seed draws around it, for a whole request (None: no voice asked, none built in)."""
        choices = [voice] if voice is not None else self.voices
        if not choices:
            return None
        return draw_speaker(choices, np.random.default_rng(_streams(seed, 0)))

    def invert(
        self,
        magnitude: np.ndarray,
        rng: np.random.Generator,
        vocoder: str = GRIFFIN_LIM,
        gl_iters: int = 32,
        sharpen: float = 1.0,
        source: Excitation | Harmonics | np.ndarray | None = None,
    ) -> np.ndarray:
        """`Inverter.invert` (the post-filter, then the vocoder), its options spelled out
        (for evaluations that vary one)."""
        options = SynthesisOptions(gl_iters=gl_iters, sharpen=sharpen, vocoder=vocoder)
        return self.inverter.invert(magnitude, rng, options, source)

    def harmonics_of(self, waveform: np.ndarray) -> Harmonics:
        """A clip's harmonics over its own envelope at Griffin-Lim's hop."""
        return self.inverter.harmonics_of(waveform)

    def render_digit(
        self,
        digit: int,
        speaker: Speaker | None,
        rng: np.random.Generator,
        options: SynthesisOptions,
    ) -> np.ndarray:
        """One new clip of a digit [clip_samples]: in the speaker's voice and pitch when the
        bundle has voices, else from the digit's pooled mixture. `options.vocoder` is the
        resolved one (`vocoder_for`)."""
        embedding = speaker.voice.embedding if speaker is not None else None
        if speaker is None or embedding is not None:  # what is said: the pooled mixture
            z = self.sample_latents([digit], rng, options.temperature)
        else:
            z = speaker.voice.sample(digit, rng, options.temperature)[None]
        image = self.decode(z, [digit], embedding)
        magnitude = self.unscale(image, [digit])[0]
        source = None
        if options.vocoder == SOURCE_FILTER:
            f0_hz = speaker.f0_hz if speaker is not None else DEFAULT_F0_HZ
            pitch = self.source.pitch(digit, f0_hz, rng)
            source = Excitation(f0=pitch, voicing=self.source.voicing(image[0]))
        return peak_normalise(self.inverter.invert(magnitude, rng, options, source))

    def clips(
        self, digits: list[int], seed: int, options: SynthesisOptions | None = None
    ) -> Iterator[np.ndarray]:
        """New clips [clip_samples], one per digit, made lazily and all in one voice:
        `options.voice`, else the one the seed picks. Digit i draws from its own random
        stream, so the same digits and seed give the same samples however they are batched,
        streamed or cut short."""
        options = options or SynthesisOptions()
        options = replace(options, vocoder=self.vocoder_for(options.vocoder))
        speaker = self.draw_speaker(seed, options.voice)
        for i, digit in enumerate(digits):
            rng = np.random.default_rng(_streams(seed, i + 1))
            yield self.render_digit(digit, speaker, rng, options)

    def generate(
        self,
        digits: list[int],
        seed: int,
        temperature: float = 1.0,
        gl_iters: int = 32,
        sharpen: float = 1.0,
        vocoder: str | None = None,
        voice: Voice | None = None,
    ) -> np.ndarray:
        """`clips` as one array [N, clip_samples], the options spelled out (evaluations call
        it with the service's settings)."""
        options = SynthesisOptions(temperature, gl_iters, sharpen, vocoder, voice)
        return np.stack(list(self.clips(digits, seed, options)))

    def speak_chunks(
        self, digits: list[int], seed: int, options: SynthesisOptions | None = None, **changes
    ) -> Iterator[np.ndarray]:
        """The waveform of `speak`, in order, as float32 pieces made one digit at a time:
        a single digit is the contract's full clip; a sequence is each digit trimmed of its
        silence, with an `options.gap_ms` silence piece between digits (twice that after
        each of `options.pauses`; all over `options.speed`). Lazy: a consumer that stops
        early (a client that hung up) spends no CPU on the digits after. `changes` override
        single options by name."""
        options = replace(options or SynthesisOptions(), **changes)
        rate, gap_ms = self.contract.sample_rate, options.gap_ms / options.speed
        gap = silence(gap_ms, rate)
        gaps = [silence(2 * gap_ms, rate) if i in options.pauses else gap
                for i in range(len(digits) - 1)]  # fmt: skip
        yield from read_out(self.clips(digits, seed, options), len(digits), gaps)

    def speak(
        self, digits: list[int], seed: int, options: SynthesisOptions | None = None, **changes
    ) -> np.ndarray:
        """One waveform: a single digit as the contract's full clip, or a sequence read out
        like a number in one voice (each digit trimmed of silence, joined by the gap). The
        concatenation of `speak_chunks`, so streamed and whole responses hold the same audio."""
        return np.concatenate(list(self.speak_chunks(digits, seed, options, **changes)))

    def excitation_of(self, waveform: np.ndarray) -> Excitation:
        """A clip's own pitch and voicing (YIN) as the source-filter's excitation; unvoiced
        frames glide between their voiced neighbours' pitch."""
        with self._stage("pitch"):
            heard = track(waveform, self.contract)
        return excitation(heard)

    def reconstruct(
        self,
        waveform: np.ndarray,
        phase: str = "vocoder",
        seed: int = 0,
        gl_iters: int = 32,
        digit: int | None = None,
        sharpen: float = 1.0,
        vocoder: str | None = None,
    ) -> np.ndarray:
        """The model's rendition of a mono clip at the contract's rate (deterministic: z_mean),
        post-filtered like generated clips. A conditional model needs the digit: given, or
        inferred by the bundle's classifier. The envelope is always the model's; the source
        is the upload's: its pitch and voicing drive the source-filter vocoder, or with
        phase='original' its own phase and harmonics are laid under the envelope.
        phase='griffinlim' is the older spelling of vocoder='griffinlim'.

        The upload is first trimmed of leading and trailing silence, as the training clips
        are: a recording padded with a second of room tone would otherwise be cut to the
        contract's 0.8 s around its middle, and the word with it."""
        if not np.all(np.isfinite(waveform)):
            raise InputError("audio contains NaN or infinite samples")
        waveform = trim_silence(waveform, UPLOAD_TRIM_DB)
        with self._stage("features"):
            features = waveform_to_features(waveform, self.contract)
        if features.db_max == features.db_min:
            raise InputError("audio is silent: there is nothing to reconstruct")
        vocoder = self.vocoder_for(GRIFFIN_LIM if phase == "griffinlim" else vocoder)
        image = features.image[None]
        digits = None
        if self.conditional:
            if digit is None and self.classifier is None:
                raise InputError("this model is digit-conditional: say which digit (digit=0-9)")
            digits = [int(self.classify(image).argmax()) if digit is None else digit]
        z_mean, _ = self.encode(image, digits)
        # Who speaks: the upload's own speaker embedding, for a speaker-conditioned model.
        own = self.embed(image) if self.speaker_encoder is not None else None
        decoded = self.decode(z_mean, digits, own)[0]
        magnitude = image_to_magnitude(decoded, features.db_min, features.db_max)
        source = None
        if phase == "original":
            own = image_to_magnitude(features.image, features.db_min, features.db_max)
            source = fine_structure(own) * features.phase
        elif vocoder == SOURCE_FILTER:
            source = self.excitation_of(waveform)
        else:
            source = self.harmonics_of(waveform)
        rng = np.random.default_rng(seed)
        options = SynthesisOptions(gl_iters=gl_iters, sharpen=sharpen, vocoder=vocoder)
        return peak_normalise(self.inverter.invert(magnitude, rng, options, source))


def _streams(seed: int, index: int) -> np.random.SeedSequence:
    """Random stream `index` of a request's seed: 0 picks the voice, i + 1 makes digit i."""
    return np.random.SeedSequence(seed, spawn_key=(index,))
