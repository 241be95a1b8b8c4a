"""A bundle's ONNX sessions, loaded once and checked against its contract.

- decoder.onnx  input "z" [N, latent] (+ "digit" [N, 10] one-hot, if conditional)
                -> image [N, bins, frames] in [0, 1]
- encoder.onnx  input "image" [N, bins, frames] (+ "digit" [N, 10], if conditional)
                -> z_mean, z_log_var [N, latent]
- classifier.onnx (optional) input "image" -> logits [N, 10]
- speaker.onnx (optional) input "image" -> speaker embedding [N, E]; the decoder then takes
                a third input "speaker" [N, E]
"""

from __future__ import annotations

from pathlib import Path

import onnxruntime as ort

from app.synthesis.bundle import (
    CLASSIFIER_FILE,
    DECODER_FILE,
    ENCODER_FILE,
    SPEAKER_FILE,
    BundleError,
    BundleMeta,
)

N_DIGITS = 10


def session(path: Path, threads: int) -> ort.InferenceSession:
    """One CPU session; `threads` intra-op threads (the service sets them per worker)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises several private exception types
        raise BundleError(f"{path}: not a loadable ONNX model ({exc})") from exc


def check_shape(path: Path, what: str, actual: list, expected: tuple[int, ...]) -> None:
    """Compare an ONNX tensor shape with the contract's, ignoring the dynamic batch axis."""
    if len(actual) != len(expected) + 1 or tuple(actual[1:]) != expected:
        raise BundleError(f"{path}: {what} has shape {actual}, the contract needs [N, {expected}]")


def load_sessions(
    folder: Path, meta: BundleMeta, threads: int
) -> tuple[ort.InferenceSession, ort.InferenceSession, ort.InferenceSession | None]:
    """(decoder, encoder, classifier or None), each checked against the contract's image
    shape, the latent size and, for a conditional model, the digit input."""
    decoder = session(folder / DECODER_FILE, threads)
    encoder = session(folder / ENCODER_FILE, threads)
    has_classifier = CLASSIFIER_FILE in meta.files
    classifier = session(folder / CLASSIFIER_FILE, threads) if has_classifier else None
    image, latent = meta.contract_params().image_shape, (meta.model.latent_dim,)
    decoder_path, encoder_path = folder / DECODER_FILE, folder / ENCODER_FILE
    check_shape(decoder_path, "input z", decoder.get_inputs()[0].shape, latent)
    check_shape(decoder_path, "output", decoder.get_outputs()[0].shape, image)
    check_shape(encoder_path, "input image", encoder.get_inputs()[0].shape, image)
    for output in encoder.get_outputs():
        check_shape(encoder_path, f"output {output.name}", output.shape, latent)
    if meta.model.conditional:
        speaking = SPEAKER_FILE in meta.files
        for path, model, count in (
            (decoder_path, decoder, 2 + speaking),
            (encoder_path, encoder, 2),
        ):
            inputs = model.get_inputs()
            if len(inputs) != count:
                needs = "'digit' and 'speaker' inputs" if count == 3 else "a 'digit' input"
                raise BundleError(f"{path}: this model needs {needs}")
            check_shape(path, "input digit", inputs[1].shape, (N_DIGITS,))
    if classifier is not None:
        path = folder / CLASSIFIER_FILE
        check_shape(path, "input", classifier.get_inputs()[0].shape, image)
        check_shape(path, "output", classifier.get_outputs()[0].shape, (N_DIGITS,))
    return decoder, encoder, classifier


def load_speaker(folder: Path, meta: BundleMeta, threads: int) -> ort.InferenceSession | None:
    """speaker.onnx when the bundle has one, its input checked against the contract and its
    embedding size against the decoder's "speaker" input."""
    if SPEAKER_FILE not in meta.files:
        return None
    path = folder / SPEAKER_FILE
    speaker = session(path, threads)
    check_shape(path, "input", speaker.get_inputs()[0].shape, meta.contract_params().image_shape)
    size = speaker.get_outputs()[0].shape[-1]
    if any(len(v.embedding or []) != size for v in meta.voices):
        raise BundleError(f"{path}: voices' embeddings are not of size {size}")
    return speaker
