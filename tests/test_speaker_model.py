"""The many-speaker loader (trimmed, split-aware) and the speaker-conditioned VAE: small
synthetic data, real Keras training, real tf2onnx export, real onnxruntime."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from app.audio.contract import Contract

RATE = 16000


def _word(f0: float, seconds: float, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    y = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 6))
    return (0.3 * y * np.hanning(len(t)) + 0.001 * rng.standard_normal(len(t))).astype(np.float32)


def _many_speaker_tree(root: Path, speakers: dict[str, float], test: list[str]) -> None:
    """FSDD layout at 16 kHz, each word padded to 1 s with quiet background, + split.json."""
    rng = np.random.default_rng(0)
    (root / "recordings").mkdir(parents=True)
    for speaker, f0 in speakers.items():
        for digit in (0, 1, 5):
            for take in range(3):
                word = _word(f0 * (1 + 0.1 * digit), 0.3 + 0.05 * take + 0.03 * digit, rng)
                y = np.concatenate([0.001 * rng.standard_normal(RATE // 3).astype(np.float32),
                                    word])  # fmt: skip
                y = np.pad(y, (0, max(0, RATE - len(y))))[:RATE]
                sf.write(root / "recordings" / f"{digit}_{speaker}_{take}.wav", y, RATE)
    split = {"test": test, "train": [s for s in speakers if s not in test]}
    (root / "split.json").write_text(json.dumps(split))


def test_trim_drops_the_padding_and_keeps_the_word() -> None:
    from training.data.speech_commands import trim

    rng = np.random.default_rng(1)
    word = _word(150, 0.4, rng)
    padded = np.concatenate([np.zeros(8000, np.float32), word, np.zeros(8000, np.float32)])
    trimmed = trim(padded)
    assert 0.3 * RATE < len(trimmed) < 0.5 * RATE
    assert np.abs(trimmed).max() == pytest.approx(np.abs(word).max())
    assert len(trim(np.zeros(100, np.float32))) == 100  # silence: returned whole


def test_load_trimmed_honours_the_split_and_trims(tmp_path: Path) -> None:
    from training.data.speech_commands import held_out_speakers, load_trimmed

    root = tmp_path / "sc"
    _many_speaker_tree(root, {"scaaa": 110.0, "scbbb": 200.0, "scccc": 150.0}, test=["scccc"])
    assert held_out_speakers(root) == ["scccc"]
    contract = Contract(band_hz=4000.0)
    train = load_trimmed(root, contract, "train", tmp_path / "cache", filter_lengths=False,
                         workers=1)  # fmt: skip
    test = load_trimmed(root, contract, "test", tmp_path / "cache", filter_lengths=False,
                        workers=1)  # fmt: skip
    assert set(train.speakers.tolist()) == {"scaaa", "scbbb"}
    assert set(test.speakers.tolist()) == {"scccc"}
    assert len(train) == 18 and len(test) == 9
    # trimmed: the 1 s clips (22,050 samples at the contract's rate) became their words
    assert train.lengths.max() < 0.7 * contract.sample_rate
    assert train.images.shape[1:] == contract.image_shape


def test_reference_pairs_are_other_clips_of_the_same_speaker() -> None:
    from training.models.speaker_training import reference_pairs

    speakers = np.array(["a", "a", "b", "b", "b", "c"])
    refs = reference_pairs(speakers, np.random.default_rng(0))
    for i, r in enumerate(refs):
        assert speakers[r] == speakers[i]
        assert r != i or (speakers == speakers[i]).sum() == 1


def test_speaker_vae_trains_exports_and_runs_in_onnxruntime(tmp_path: Path) -> None:
    pytest.importorskip("tensorflow")
    import onnxruntime as ort

    from training.models.export import to_onnx
    from training.models.speaker_training import train
    from training.models.speaker_vae import SpeakerModelConfig, band_rows, build

    contract = Contract(band_hz=4000.0)
    shape = contract.image_shape
    rng = np.random.default_rng(0)
    n = 64
    images = np.zeros((n, *shape), np.float32)
    images[:, :90] = rng.random((n, 90, shape[1])) * 0.5
    digits = rng.integers(0, 10, n)
    speakers = np.array([f"s{i % 4}" for i in range(n)])
    config = SpeakerModelConfig(
        latent_dim=4, embedding_dim=8, encoder_widths=(4, 4, 4), speaker_widths=(4, 4, 4),
        decoder_widths=(4, 4, 8), condition_channels=2, epochs=2, minutes=None, batch_size=32,
        band_rows=band_rows(contract.band_bins, 8), adversary=1.0,
    )  # fmt: skip
    model = build(shape, 4, config)
    result = train(model, images, digits, speakers, (images[:8], digits[:8], speakers[:8]))
    assert len(result["history"]["loss"]) == 2
    assert np.all(np.isfinite(result["history"]["loss"]))
    to_onnx(model.decoder, {"z": (4,), "digit": (10,), "speaker": (8,)}, tmp_path / "d.onnx")
    to_onnx(model.speaker_encoder, {"image": shape}, tmp_path / "s.onnx")
    spk = ort.InferenceSession(str(tmp_path / "s.onnx"))
    (e,) = spk.run(None, {"image": images[:3]})
    assert e.shape == (3, 8)
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-4)
    np.testing.assert_allclose(e, model.speaker_encoder.predict(images[:3], verbose=0), atol=1e-4)
    dec = ort.InferenceSession(str(tmp_path / "d.onnx"))
    assert [i.name for i in dec.get_inputs()] == ["z", "digit", "speaker"]
    (out,) = dec.run(
        None,
        {
            "z": np.zeros((3, 4), np.float32),
            "digit": np.eye(10, dtype=np.float32)[:3],
            "speaker": e,
        },
    )
    assert out.shape == (3, *shape)
    assert out.min() >= 0 and out.max() <= 1
    assert np.all(out[:, config.band_rows :] == 0)  # above the band: the floor


def test_voice_library_spans_pitch_and_holds_clips_back() -> None:
    from training.data.dataset import Dataset
    from training.models.speaker_voices import choose_voice_speakers, voice_split

    rng = np.random.default_rng(0)
    speakers, f0s = [], []
    table = {"george": 120.0, **{f"sc{i:03d}": 80.0 + 10 * i for i in range(20)}}
    for s, f0 in table.items():
        k = 10 if s == "george" else 6 + (hash(s) % 3)
        speakers += [s] * k
        f0s += [f0] * k
    n = len(speakers)
    frames = 69
    data = Dataset(
        images=np.zeros((n, 2, frames), np.float32), db_min=np.zeros(n, np.float32),
        db_max=np.zeros(n, np.float32), lengths=np.zeros(n, np.int64),
        digits=rng.integers(0, 10, n), speakers=np.array(speakers),
        takes=np.arange(n), f0=np.repeat(np.array(f0s, np.float32)[:, None], frames, 1),
        voiced=np.ones((n, frames), bool),
    )  # fmt: skip
    chosen = choose_voice_speakers(data, n_voices=10, n_high=4)
    assert chosen[0] == "george" and len(chosen) == 10
    pitches = [table[s] for s in chosen]
    assert sum(p >= 165 for p in pitches) >= 4
    assert min(pitches) == 80.0 and max(pitches) == 270.0
    fit, held = voice_split(data, "sc005")
    assert len(fit) and len(held) and not set(fit) & set(held)
    assert len(voice_split(data, "george")[1]) == 0  # FSDD voices: their test takes are apart


def test_fit_widening_takes_the_many_speaker_training_split(tmp_path: Path) -> None:
    from training.data.widen import Widening, added_training

    root = tmp_path / "sc"
    _many_speaker_tree(root, {"scaaa": 110.0, "scbbb": 200.0, "scccc": 150.0}, test=["scccc"])
    added, facts = added_training(
        [], set(), Widening(extra_data=((root, "speechcommands"),)), Contract(band_hz=4000.0),
        tmp_path / "cache", held_out=("theo",), length_filter_on=False,
    )  # fmt: skip
    assert set(added.speakers.tolist()) == {"scaaa", "scbbb"}  # never the held-out speaker
    assert facts["extra_data"][0]["clips"] == 18


def test_speaker_bundle_end_to_end_generates_and_reconstructs(tmp_path: Path) -> None:
    """A tiny svae bundle from the fit CLI, served by the service's Synthesizer: voices
    with embeddings and pitches, speaker.onnx, a three-input decoder, audio out, and a
    voice made from a clip (its embedding signed into the id)."""
    pytest.importorskip("tensorflow")
    from app.synthesis.custom_voices import VoiceBook
    from app.synthesis.synthesizer import Synthesizer
    from training.models.speaker_fit import main

    rng = np.random.default_rng(3)
    fsdd = tmp_path / "fsdd" / "recordings"
    fsdd.mkdir(parents=True)
    for speaker, f0 in (("alice", 210.0), ("bob", 100.0)):
        for digit in range(10):
            for take in range(14):
                y = _word(f0 * (1 + 0.05 * digit), 0.35 + 0.01 * take, rng)
                sf.write(fsdd / f"{digit}_{speaker}_{take}.wav", y, 8000)
    many = tmp_path / "sc"
    _many_speaker_tree(many, {f"sc{i}": 90.0 + 40 * i for i in range(4)}, test=["sc3"])
    out = tmp_path / "bundle"
    main([
        "--fsdd", str(tmp_path / "fsdd"), "--many", str(many), "--out", str(out),
        "--epochs", "1", "--minutes", "5", "--voices", "4", "--classifier", "",
        "--latent-dim", "4", "--embedding-dim", "8", "--decoder-widths", "4", "4", "8",
        "--cache-dir", str(tmp_path / "cache"), "--run-dir", str(tmp_path / "runs"),
        "--threads", "1",
    ])  # fmt: skip
    synth = Synthesizer(out)
    assert synth.speaker_encoder is not None
    assert synth.meta.model.kind == "svae"
    assert [v.id for v in synth.voices][:2] == ["alice", "bob"]
    assert all(len(v.embedding) == 8 for v in synth.meta.voices)
    assert not any(
        v.description.endswith("sc3") or " sc3," in v.description for v in synth.meta.voices
    )  # held out: never a voice
    named = {v.id: v.description for v in synth.meta.voices if "Speech Commands" in v.description}
    assert named and set(named) <= {"alder", "aspen", "birch", "cedar"}  # named, not hashes
    clips = synth.generate([1, 2], seed=0, temperature=0.6, gl_iters=2, voice=synth.voices[1])
    assert clips.shape == (2, synth.contract.clip_samples) and np.all(np.isfinite(clips))
    word = _word(150, 0.4, rng)
    rec = synth.reconstruct(word, digit=3, gl_iters=2)
    assert rec.shape == (synth.contract.clip_samples,) and np.abs(rec).max() > 0
    book = VoiceBook(synth, b"test-secret", 0.5)
    voice_id, heard = book.make(word, digit=3)
    made = book.resolve(voice_id)
    assert 190 < made.f0_hz < 225  # 150 Hz made at 16 kHz, played at 22.05 kHz: 207 Hz
    assert made.embedding.shape == (8,) and heard.nearest in {v.id for v in synth.voices}
    assert synth.generate([4], seed=1, voice=made).shape == (1, synth.contract.clip_samples)
