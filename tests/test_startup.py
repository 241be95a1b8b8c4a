"""A missing or broken bundle stops start-up before the port is bound, naming the file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import DEFAULT_BUNDLE, Server


def copy_bundle(tmp_path: Path) -> Path:
    bundle = tmp_path / "bundle"
    shutil.copytree(DEFAULT_BUNDLE, bundle)
    return bundle


def edit_meta(bundle: Path, change) -> None:
    meta = json.loads((bundle / "bundle.json").read_text())
    change(meta)
    (bundle / "bundle.json").write_text(json.dumps(meta))


def refuses(bundle: Path) -> str:
    server = Server(bundle)
    code = server.process.wait(timeout=60)
    output = server.stop()
    assert code != 0, output
    assert "Uvicorn running" not in output  # refused before binding the port
    (line,) = [line for line in output.splitlines() if "app: cannot start:" in line]
    return line  # the one clear line that names the file and what is wrong


def test_missing_bundle_folder(tmp_path):
    assert "no-such-bundle: bundle folder does not exist" in refuses(tmp_path / "no-such-bundle")


def test_missing_decoder(tmp_path):
    bundle = copy_bundle(tmp_path)
    (bundle / "decoder.onnx").unlink()
    assert "decoder.onnx: missing" in refuses(bundle)


def test_hash_mismatch(tmp_path):
    bundle = copy_bundle(tmp_path)
    edit_meta(bundle, lambda m: m["files"]["decoder.onnx"].update(sha256="0" * 64))
    assert "decoder.onnx: SHA-256 does not match" in refuses(bundle)


def test_truncated_onnx_with_matching_hash(tmp_path):
    """A hash recorded for a broken file: the ONNX loader is what refuses it."""
    from app.synthesis.bundle import sha256_file

    bundle = copy_bundle(tmp_path)
    onnx = bundle / "encoder.onnx"
    onnx.write_bytes(onnx.read_bytes()[:1000])
    edit_meta(bundle, lambda m: m["files"]["encoder.onnx"].update(sha256=sha256_file(onnx)))
    assert "encoder.onnx: not a loadable ONNX model" in refuses(bundle)


def test_meta_not_json(tmp_path):
    bundle = copy_bundle(tmp_path)
    (bundle / "bundle.json").write_text("{not json")
    assert "bundle.json: not valid JSON" in refuses(bundle)


@pytest.mark.parametrize("field", ["model", "contract", "scaling", "files"])
def test_meta_lacks_a_field(tmp_path, field):
    bundle = copy_bundle(tmp_path)
    edit_meta(bundle, lambda m: m.pop(field))
    assert f"bundle.json: field '{field}'" in refuses(bundle)


def test_shapes_disagree_with_contract(tmp_path):
    bundle = copy_bundle(tmp_path)
    edit_meta(bundle, lambda m: m["contract"].update(n_fft=1024) or m.update(vocoder=None))
    assert "decoder.onnx: output has shape" in refuses(bundle)


def test_vocoder_models_disagree_with_contract(tmp_path):
    bundle = copy_bundle(tmp_path)
    edit_meta(bundle, lambda m: m["vocoder"]["voicing"]["weights"].pop())
    assert "bundle.json: vocoder voicing weights are not 2 x 257" in refuses(bundle)
    edit_meta(bundle, lambda m: m.update(vocoder=None) or m["voices"][0]["latent"].pop("7"))
    assert "lacks digits" in refuses(bundle)
