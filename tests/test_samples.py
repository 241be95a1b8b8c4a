"""The README's listening samples (python -m training samples): written from the shipped
bundle, 16 kHz WAVs of plausible length, in the named voices."""

from __future__ import annotations

import soundfile as sf

from tests.conftest import DEFAULT_BUNDLE
from training.evaluation.samples import CLIPS, RATE, write_samples


def test_samples_are_written_in_their_voices(tmp_path) -> None:
    written = write_samples(DEFAULT_BUNDLE, tmp_path, temperature=0.6, sharpen=1.4)
    assert [p.stem for p in written] == [c[0] for c in CLIPS] + ["number", "three-a-griffinlim"]
    for path in written:
        info = sf.info(path)
        assert info.samplerate == RATE and info.channels == 1
        assert 0.5 < info.duration < (8.0 if path.stem == "number" else 0.9)
    # Two different voices say "three": their recordings differ.
    a, _ = sf.read(tmp_path / "three-a.wav")
    b, _ = sf.read(tmp_path / "three-b.wav")
    assert a.shape != b.shape or abs(a - b).max() > 0.05
