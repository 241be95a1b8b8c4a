"""What the user gives the demo page: uploads, recordings and voices made of them, in a
real headless Chromium against a real uvicorn server.

Each test starts from a fresh page and fails if the page throws, or asks any host other
than the service for anything."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.audio_checks import audio_bytes
from tests.demo_page import CLIP_SECONDS, TIMEOUT_MS, Page, server_sha256
from tests.factory import vowel


def test_an_uploaded_clip_is_reconstructed_beside_the_original(demo: Page, tmp_path: Path):
    page = demo.page
    clip = httpx.post(f"{demo.server.url}/generate", params={"digit": 4, "seed": 11}, timeout=60)
    upload = tmp_path / "four.wav"
    upload.write_bytes(clip.content)

    page.get_by_label("Audio file").set_input_files(upload)
    page.get_by_label("Your clip's phase").check()
    before = len(demo.results())
    page.get_by_role("button", name="Reconstruct").click()
    result = demo.wait_for_result(before)
    assert result["kind"] == "reconstruction" and result["phase"] == "original"

    cards = page.locator("#rec-result .result")
    assert cards.count() == 2
    assert "Original: four.wav" in cards.nth(0).inner_text()
    assert "Reconstruction (original phase)" in cards.nth(1).inner_text()
    assert demo.duration("#rec-result .result[data-kind=original] audio") == pytest.approx(
        CLIP_SECONDS, abs=0.01
    )
    assert demo.duration("#rec-result .result[data-kind=reconstruction] audio") == pytest.approx(
        CLIP_SECONDS, abs=0.01
    )
    for kind in ("original", "reconstruction"):
        assert demo.spectrogram_colours(f"#rec-result .result[data-kind={kind}] canvas") > 50
    params = {"phase": "original"}
    if page.locator("#rec-digit-field").is_visible():  # a conditional model: the page's digit
        params["digit"] = page.locator("#rec-digit").input_value()
    expected = httpx.post(
        f"{demo.server.url}/reconstruct",
        params=params,
        files={"file": ("four.wav", clip.content, "audio/wav")},
        timeout=60,
    )
    assert result["sha256"] == hashlib.sha256(expected.content).hexdigest()
    assert cards.nth(1).get_by_role("link").get_attribute("download") == (
        "four-reconstructed-original.wav"
    )
    assert "Reconstructed four.wav" in page.locator("#rec-status").inner_text()


def test_a_recording_is_converted_to_wav_and_reconstructed(demo: Page):
    """MediaRecorder gives webm/opus, which the service cannot read: the page sends WAV."""
    page = demo.page
    record = page.get_by_role("button", name="Record")
    assert record.is_enabled()
    record.click()
    page.wait_for_selector("#record[aria-pressed=true]")  # once the microphone is open
    assert record.inner_text() == "Stop recording"
    status = page.locator("#rec-status")
    page.wait_for_function(  # the recorder stops itself after 3 s
        "() => document.getElementById('rec-status').textContent.startsWith('Recorded')",
        timeout=TIMEOUT_MS,
    )
    recorded = re.match(r"Recorded (\d+\.\d) s", status.inner_text())
    assert recorded and 2.5 <= float(recorded[1]) <= 3.5, status.inner_text()
    before = len(demo.results())
    page.get_by_role("button", name="Reconstruct").click()
    demo.wait_for_result(before)
    original = "#rec-result .result[data-kind=original]"
    assert "Original: recording.wav" in page.locator(original).inner_text()
    assert demo.duration(f"{original} audio") == pytest.approx(3.0, abs=0.15)
    assert demo.duration("#rec-result .result[data-kind=reconstruction] audio") == pytest.approx(
        CLIP_SECONDS, abs=0.01
    )
    assert demo.spectrogram_colours(f"{original} canvas") > 20


def test_a_non_audio_upload_shows_the_services_error(demo: Page, tmp_path: Path):
    page = demo.page
    page.get_by_role("button", name="Reconstruct").click()
    assert "Choose an audio file" in page.locator("#rec-status.error").inner_text()

    notes = tmp_path / "notes.wav"
    notes.write_text("these are notes, not audio\n" * 20)
    page.get_by_label("Audio file").set_input_files(notes)
    page.get_by_role("button", name="Reconstruct").click()
    status = page.locator("#rec-status.error")
    status.wait_for()
    text = status.inner_text()
    assert "could not decode the upload as audio" in text and "HTTP 415" in text
    assert status.get_attribute("role") == "alert"
    assert page.locator("#rec-result .result").count() == 0


def test_a_voice_made_from_an_upload_reads_a_typed_number(demo: Page, tmp_path: Path):
    """Upload a clip, make a voice of it, then a typed number is read in that voice: the
    very bytes the service gives for that voice and seed."""
    page = demo.page
    voices = page.get_by_label("Voice", exact=True)
    page.wait_for_selector("#voice option[value=george]", state="attached")
    upload = tmp_path / "ah.wav"
    upload.write_bytes(audio_bytes(vowel(200.0, 0.45, 16_000), 16_000))
    page.get_by_label("Audio file").set_input_files(upload)
    before = len(demo.results())
    page.get_by_role("button", name="Make a voice from it").click()
    made = demo.wait_for_result(before)
    assert made["kind"] == "voice" and made["id"].startswith("v2.")
    assert made["f0_hz"] == pytest.approx(200.0, rel=0.05)
    assert voices.input_value() == made["id"]  # chosen for what comes next
    assert "Your voice 1: ah.wav (200 Hz)" in page.locator("#voice option:checked").inner_text()
    status = page.locator("#rec-status").inner_text()
    assert "Made “Your voice 1” from ah.wav" in status and "nearest the built-in voice" in status

    page.get_by_label("Seed", exact=True).fill("12")
    before = len(demo.results())
    page.get_by_label("Read out a number").fill("2580")
    page.get_by_role("button", name="Speak it").click()
    result = demo.wait_for_result(before)
    assert result["voice"] == made["id"] and result["digits"] == "2580"
    assert "voice Your voice 1" in page.locator("#gen-result .result").inner_text()
    expected = server_sha256(demo.server, digits="2580", seed=12, temperature=0.6, voice=made["id"])
    assert result["sha256"] == expected

    # A built-in voice from the list, and errors in the service's words.
    voices.select_option("george")
    assert demo.click_digit(4)["voice"] == "george"
    (tmp_path / "hiss.wav").write_bytes(audio_bytes(np.zeros(8000, np.float32), 16_000))
    page.get_by_label("Audio file").set_input_files(tmp_path / "hiss.wav")
    page.get_by_role("button", name="Make a voice from it").click()
    status = page.locator("#rec-status.error")
    status.wait_for()
    assert "silent" in status.inner_text() and "HTTP 422" in status.inner_text()
