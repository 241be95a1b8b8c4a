"""What the demo page shows of the model, and its layout on a phone, in a real headless
Chromium against a real uvicorn server.

Each test starts from a fresh page and fails if the page throws, or asks any host other
than the service for anything."""

from __future__ import annotations

import json

import httpx

from tests.conftest import Server
from tests.demo_page import Page


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
