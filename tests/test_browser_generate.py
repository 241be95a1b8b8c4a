"""Making digits and numbers on the demo page, by mouse and keyboard, in a real headless
Chromium against a real uvicorn server.

Each test starts from a fresh page and fails if the page throws, or asks any host other
than the service for anything."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from tests.audio_checks import read_audio
from tests.demo_page import CLIP_SECONDS, Page, server_sha256


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
