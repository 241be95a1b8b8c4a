"""The demo page (`GET /`) in a real headless Chromium against a real uvicorn server.

Each test starts from a fresh page and fails if the page throws, or asks any host other
than the service for anything."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.audio_checks import audio_bytes, read_audio
from tests.browser import FAKE_MICROPHONE, chromium_path, launch
from tests.conftest import REPO, Server
from tests.factory import vowel

CLIP_SECONDS = 0.8  # the contract's clip length (17,640 samples at 22,050 Hz)
TIMEOUT_MS = 30_000  # generous: two shared cores


# ---------- the page as plain HTTP (no browser needed) ----------


def test_page_and_assets_are_served_with_a_strict_policy(client: httpx.Client):
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "connect-src 'self'" in policy
    assert '<script src="/static/app.js"' in page.text
    for name, media in [("app.js", "text/javascript"), ("style.css", "text/css")]:
        asset = client.get(f"/static/{name}")
        assert asset.status_code == 200 and asset.headers["content-type"].startswith(media)
        assert "http://" not in asset.text and "https://" not in asset.text  # no other origin
    missing = client.get("/static/..%2Fmain.py")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert "/" not in client.get("/openapi.json").json()["paths"]  # not part of the API


def test_the_page_ships_in_a_non_editable_install(tmp_path: Path):
    """The image installs the package from a copy of the tree: the static files must go along."""
    pytest.importorskip("setuptools", reason="building a wheel offline needs setuptools")
    tree = tmp_path / "tree"
    for part in ("app", "training"):
        shutil.copytree(REPO / part, tree / part, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, tree / name)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-index",
         "--no-build-isolation", "--wheel-dir", str(tmp_path / "dist"), str(tree)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("audio_vae-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for static in sorted((REPO / "app" / "static").iterdir()):
        assert f"app/static/{static.name}" in names
    assert "app/api/pages.py" in names


# ---------- the page in Chromium ----------


@pytest.fixture(scope="module")
def browser() -> Iterator:
    executable = chromium_path()
    if executable is None:
        pytest.skip("no Chromium found (apt-get install chromium, or set AUDIOVAE_CHROMIUM)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright, executable, FAKE_MICROPHONE)
        yield browser
        browser.close()


class Page:
    """A Playwright page on the demo, with the page's own record of what it fetched."""

    def __init__(self, page, server: Server) -> None:
        self.page, self.server = page, server

    def results(self) -> list[dict]:
        return self.page.evaluate("window.audioVaeDemo.results")

    def wait_for_result(self, before: int) -> dict:
        self.page.wait_for_function(
            "n => window.audioVaeDemo.results.length > n", arg=before, timeout=TIMEOUT_MS
        )
        return self.results()[-1]

    def duration(self, selector: str) -> float:
        """The audio element's duration once it has loaded its metadata."""
        self.page.wait_for_function(
            """sel => { const a = document.querySelector(sel);
                        return a && a.readyState >= 1 && a.duration > 0; }""",
            arg=selector,
            timeout=TIMEOUT_MS,
        )
        return self.page.eval_on_selector(selector, "a => a.duration")

    def spectrogram_colours(self, selector: str) -> int:
        """Distinct colours drawn on a canvas: 1 for a blank one."""
        return self.page.eval_on_selector(
            selector,
            """c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                      const seen = new Set();
                      for (let i = 0; i < d.length; i += 4)
                        seen.add(d[i] << 16 | d[i + 1] << 8 | d[i + 2]);
                      return seen.size; }""",
        )

    def click_digit(self, digit: int) -> dict:
        before = len(self.results())
        self.page.get_by_role("button", name=f"Speak digit {digit}").click()
        return self.wait_for_result(before)


@pytest.fixture()
def demo(browser, server: Server) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    elsewhere: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    def record_elsewhere(request) -> None:
        if not request.url.startswith((server.url + "/", "blob:", "data:")):
            elsewhere.append(request.url)

    page.on("request", record_elsewhere)
    page.goto(server.url + "/")
    page.wait_for_selector("#model-info .model-summary")
    yield Page(page, server)
    context.close()
    assert errors == [], f"the page threw: {errors}"
    assert elsewhere == [], f"the page asked another host: {elsewhere}"


def server_sha256(server: Server, **params) -> str:
    response = httpx.post(f"{server.url}/generate", params=params, timeout=60)
    assert response.status_code == 200, response.text
    return hashlib.sha256(response.content).hexdigest()


def test_a_digit_click_plays_a_fresh_digit_with_its_spectrogram(demo: Page):
    page = demo.page
    first = demo.click_digit(3)
    assert demo.duration("#gen-result audio") == pytest.approx(CLIP_SECONDS, abs=0.01)
    card = page.locator("#gen-result .result")
    assert card.get_attribute("data-digits") == "3"
    seed = first["seed"]
    assert seed.isdigit() and card.get_attribute("data-seed") == seed
    assert f"seed {seed}" in page.locator("#gen-status").inner_text()
    assert f"seed {seed}" in card.inner_text()
    # What the page plays is exactly what the service gives for that seed.
    assert first["sha256"] == server_sha256(demo.server, digit=3, seed=seed, temperature=0.6)
    assert demo.spectrogram_colours("#gen-result canvas") > 50
    link = card.get_by_role("link", name="Download")
    assert link.get_attribute("download") == f"digits-3-seed-{seed}.wav"
    assert link.get_attribute("href").startswith("blob:")

    # Without a seed, each click is a new voice.
    second = demo.click_digit(3)
    assert second["seed"] != seed and second["sha256"] != first["sha256"]
    assert page.locator("#gen-result .result").count() == 1


def test_same_seed_again_reproduces_the_last_clip(demo: Page):
    page = demo.page
    again = page.get_by_role("button", name="Same seed again")
    assert again.is_disabled()  # nothing to repeat yet
    first = demo.click_digit(5)
    before = len(demo.results())
    again.click()
    repeat = demo.wait_for_result(before)
    assert (repeat["digits"], repeat["seed"], repeat["sha256"]) == (
        "5", first["seed"], first["sha256"],
    )  # fmt: skip
    assert demo.duration("#gen-result audio") == pytest.approx(CLIP_SECONDS, abs=0.01)

    # A typed seed and the temperature (set with the keyboard) are sent as given.
    page.get_by_label("Seed", exact=True).fill("42")
    page.get_by_label("Temperature").focus()
    page.keyboard.press("Home")
    assert page.locator("#temperature-value").inner_text() == "0.0"
    a, b = demo.click_digit(7), demo.click_digit(7)
    assert a["seed"] == b["seed"] == "42" and a["sha256"] == b["sha256"]
    assert "temperature 0" in page.locator("#gen-result .result").inner_text()
    assert a["sha256"] == server_sha256(demo.server, digit=7, seed=42, temperature=0)

    page.get_by_label("Seed", exact=True).fill("forty-two")
    page.get_by_role("button", name="Speak digit 1").click()
    status = page.locator("#gen-status")
    assert "the seed must be a whole number" in status.inner_text()
    assert status.get_attribute("role") == "alert"


def test_a_typed_number_is_read_out_as_one_longer_clip(demo: Page):
    page = demo.page
    before = len(demo.results())
    page.get_by_label("Read out a number").fill("(415) 555-12")
    page.get_by_role("button", name="Speak it").click()
    result = demo.wait_for_result(before)
    assert result["digits"] == "41555512"
    assert result["streamed"] is True  # raw PCM, stream=true
    assert "streamed in" in page.locator("#gen-result .result").inner_text()
    duration = demo.duration("#gen-result audio")
    assert duration > 3 * CLIP_SECONDS
    assert "Number 41555512" in page.locator("#gen-result h3").inner_text()
    response = httpx.post(
        f"{demo.server.url}/generate",
        params={"digits": "41555512", "seed": result["seed"], "temperature": 0.6},
        timeout=60,
    )
    assert hashlib.sha256(response.content).hexdigest() == result["sha256"]
    samples, rate, _ = read_audio(response.content)
    assert duration == pytest.approx(len(samples) / rate, abs=0.01)

    # What the service refuses, the page says, in the service's words.
    page.get_by_label("Read out a number").fill("12ab")
    page.get_by_role("button", name="Speak it").click()
    status = page.locator("#gen-status.error")
    status.wait_for()
    assert "digits: String should match pattern" in status.inner_text()
    assert "HTTP 422" in status.inner_text()
    assert len(demo.results()) == before + 1


# A link slower than the service (bytes/s; 32 digits of PCM are ~650 kB): the service makes
# them in ~0.2 s here, so on loopback the whole stream can land in the page's first read.
SLOW_LINK = {"offline": False, "latency": 20, "downloadThroughput": 256_000, "uploadThroughput": -1}


def test_a_long_number_plays_while_it_streams(demo: Page):
    """32 digits over a slow link take seconds to arrive: the page schedules the first ones
    on Web Audio before the last have arrived, and keeps what it played, byte for byte the
    service's WAV."""
    page = demo.page
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", SLOW_LINK)
    number = "4155551234" * 3 + "99"
    page.get_by_label("Seed", exact=True).fill("8")
    before = len(demo.results())
    page.get_by_label("Read out a number").fill(number)
    page.get_by_role("button", name="Speak it").click()
    result = demo.wait_for_result(before)
    assert result["digits"] == number and result["streamed"] is True
    assert result["chunks"] >= 4, result  # it came in pieces...
    assert result["playedBeforeEnd"] is True, result  # ...and played before the last one
    assert result["audio"] == "running", result
    assert result["sha256"] == server_sha256(demo.server, digits=number, seed=8, temperature=0.6)


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


def test_digit_buttons_work_from_the_keyboard(demo: Page):
    page = demo.page
    focused = []
    for _ in range(6):  # skip link, then the first digit button
        page.keyboard.press("Tab")
        focused.append(page.evaluate("document.activeElement.getAttribute('aria-label')"))
        if focused[-1] == "Speak digit 1":
            break
    assert focused[-1] == "Speak digit 1", focused

    before = len(demo.results())
    page.keyboard.press("Enter")
    assert demo.wait_for_result(before)["digits"] == "1"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Speak digit 2"
    before = len(demo.results())
    page.keyboard.press("Space")
    assert demo.wait_for_result(before)["digits"] == "2"

    before = len(demo.results())
    page.keyboard.press("9")  # the digit keys speak, outside text fields
    assert demo.wait_for_result(before)["digits"] == "9"
    assert demo.duration("#gen-result audio") == pytest.approx(CLIP_SECONDS, abs=0.01)

    page.get_by_label("Read out a number").focus()
    page.keyboard.press("9")  # ... but type into them
    page.keyboard.press("Enter")
    assert demo.wait_for_result(before + 1)["digits"] == "9"
    assert page.get_by_label("Read out a number").input_value() == "9"
    assert len(demo.results()) == before + 2


def test_the_model_and_its_figures_are_shown(demo: Page):
    page = demo.page
    meta = httpx.get(f"{demo.server.url}/v1/model").json()
    info = page.locator("#model-info").inner_text()
    assert meta["id"] in info
    assert f"{meta['model']['parameters']:,}" in info
    assert f"{meta['model']['latent_dim']}-dimensional" in info
    assert meta["training"]["dataset"] in info
    if meta["evaluation"]:
        assert "Evaluation" in info
    else:
        assert "no evaluation figures" in info
    conditional = page.locator("#rec-digit-field")
    assert conditional.is_visible() == meta["model"]["conditional"]


def test_evaluation_figures_of_any_shape_are_listed(demo: Page):
    """The evaluation section has no fixed shape: whatever a bundle carries is shown."""
    page = demo.page
    meta = httpx.get(f"{demo.server.url}/v1/model").json()
    meta["evaluation"] = {
        "generation_accuracy": 0.4137,
        "recognizer": "whisper-tiny",
        "per_digit": {"0": 0.5, "6": 0.15},
    }
    meta["model"]["conditional"] = True
    page.route(
        "**/v1/model",
        lambda route: route.fulfill(
            status=200, content_type="application/json", body=json.dumps(meta)
        ),
    )
    page.reload()
    page.wait_for_selector("#model-info .model-summary")
    info = page.locator("#model-info").inner_text()
    for text in ("Evaluation", "Generation accuracy", "0.414", "whisper-tiny", "Per digit", "0.15"):
        assert text in info
    assert "digit-conditional" in info
    assert page.get_by_label("Spoken digit").is_visible()


def test_the_page_fits_a_phone(browser, server: Server):
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
    page = context.new_page()
    page.goto(server.url + "/")
    page.wait_for_selector("#model-info .model-summary")
    one = page.get_by_role("button", name="Speak digit 1").bounding_box()
    five = page.get_by_role("button", name="Speak digit 5").bounding_box()
    six = page.get_by_role("button", name="Speak digit 6").bounding_box()
    assert one["y"] == five["y"] < six["y"]  # two rows of five
    assert one["height"] >= 44 and one["width"] >= 44  # big enough for a finger
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scroll
    context.close()


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
