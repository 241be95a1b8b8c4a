"""Data loaders on small trees in both layouts; the study's filter and splits; the cache."""

from __future__ import annotations

import numpy as np
import pytest

from app.audio.contract import Contract
from tests.factory import make_audiomnist_tree, make_fsdd_tree
from training.data import dataset as data

C = Contract()


@pytest.fixture(scope="module")
def fsdd_tree(tmp_path_factory):
    return make_fsdd_tree(tmp_path_factory.mktemp("fsdd"))


def test_fsdd_layout_is_parsed(fsdd_tree):
    clips = data.list_clips(fsdd_tree, "fsdd")
    assert len(clips) == 10 * 3 * 4
    first = clips[0]
    assert (first.digit, first.speaker, first.take) == (0, "ann", 0)
    assert {c.speaker for c in clips} == {"ann", "bob", "cy"}


def test_audiomnist_layout_is_parsed(tmp_path):
    root = make_audiomnist_tree(tmp_path, speakers=2, takes=2)
    clips = data.list_clips(root, "audiomnist")
    assert len(clips) == 10 * 2 * 2
    assert {c.speaker for c in clips} == {"01", "02"}
    assert data.list_clips(root / "data", "audiomnist") == clips  # the data folder itself
    dataset = data.load_dataset(root, "audiomnist", C, cache_dir=tmp_path / "cache")
    assert dataset.images.shape == (40, *C.image_shape)
    # 48 kHz clips are resampled to the contract's rate before their length is taken.
    assert dataset.lengths.max() < 0.8 * C.sample_rate


def test_missing_data_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no fsdd clips"):
        data.list_clips(tmp_path, "fsdd")
    with pytest.raises(ValueError, match="unknown layout"):
        data.list_clips(tmp_path, "timit")


def test_features_are_cached(fsdd_tree, tmp_path, monkeypatch):
    first = data.load_dataset(fsdd_tree, "fsdd", C, cache_dir=tmp_path)
    assert first.images.shape == (120, *C.image_shape)
    assert first.images.min() >= 0 and first.images.max() <= 1
    assert len(list(tmp_path.rglob("*.npz"))) == 1

    def no_featurising(*args, **kwargs):
        raise AssertionError("features were recomputed despite the cache")

    monkeypatch.setattr(data, "ProcessPoolExecutor", no_featurising)
    second = data.load_dataset(fsdd_tree, "fsdd", C, cache_dir=tmp_path)
    np.testing.assert_array_equal(first.images, second.images)
    np.testing.assert_array_equal(first.speakers, second.speakers)
    # A different contract is a different cache entry.
    with pytest.raises(AssertionError, match="recomputed"):
        data.load_dataset(fsdd_tree, "fsdd", Contract(n_fft=256), cache_dir=tmp_path)


def test_length_filter_keeps_strictly_inside_percentiles():
    lengths = np.arange(1, 101)
    mask = data.length_filter(lengths)
    low, high = np.percentile(lengths, [1, 97])
    assert np.all(lengths[mask] > low) and np.all(lengths[mask] < high)
    assert mask.sum() == 96  # 1 and 2 go below, 98-100 above (p1 = 1.99, p97 = 97.03)


def test_stratified_split_sizes_and_balance():
    digits = np.repeat(np.arange(10), 100)
    split = data.stratified_split(digits)
    assert (len(split.train), len(split.val), len(split.test)) == (810, 90, 100)
    assert set(np.bincount(digits[split.test])) == {10}
    assert set(np.bincount(digits[split.val])) == {9}
    everything = np.concatenate([split.train, split.val, split.test])
    assert len(np.unique(everything)) == 1000
    again = data.stratified_split(digits)
    np.testing.assert_array_equal(split.test, again.test)


def test_speaker_split_holds_out_speakers():
    speakers = np.repeat(np.array(["a", "b", "c", "d"]), 100)
    digits = np.tile(np.arange(10), 40)
    split = data.speaker_split(speakers, digits, ["c"])
    assert set(speakers[split.test]) == {"c"}
    assert "c" not in set(speakers[np.concatenate([split.train, split.val])])
    assert len(split.val) == 30
    with pytest.raises(ValueError, match="not in the data"):
        data.speaker_split(speakers, digits, ["zed"])


def test_take_split_tests_every_speakers_first_takes():
    speakers = np.repeat(np.array(["a", "b"]), 500)
    takes = np.tile(np.repeat(np.arange(50), 10), 2)
    digits = np.tile(np.arange(10), 100)
    split = data.take_split(takes, digits, test_takes=5)
    assert set(takes[split.test]) == set(range(5)) and set(speakers[split.test]) == {"a", "b"}
    assert takes[np.concatenate([split.train, split.val])].min() == 5
    assert len(split.test) == 100 and len(split.val) == 90
    assert np.bincount(digits[split.val]).tolist() == [9] * 10  # stratified by digit
