"""The demo page on a service with AUDIOVAE_API_KEYS set: it asks for the key on the first
401, keeps it in the browser, and then works as on an open service."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from benchmarks.server import Server
from tests.conftest import DEFAULT_BUNDLE
from tests.demo_page import TIMEOUT_MS, Page

KEY = "page-key-123"


@pytest.fixture(scope="module")
def locked() -> Iterator[Server]:
    server = Server(DEFAULT_BUNDLE, {"AUDIOVAE_API_KEYS": KEY})
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def test_the_page_asks_for_the_key_then_speaks(browser, locked: Server) -> None:
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(locked.url + "/")
        form = page.locator("#key-form")
        form.wait_for(state="visible")
        assert "401" in page.locator("#key-status").inner_text()
        # A wrong key is refused the same way, and the form stays.
        page.fill("#api-key", "not-the-key")
        page.click("#key-save")
        form.wait_for(state="visible")
        page.fill("#api-key", KEY)
        page.click("#key-save")
        page.wait_for_selector("#model-info .model-summary")
        assert form.is_hidden()
        assert page.evaluate("localStorage.getItem('audiovae-api-key')") == KEY
        result = Page(page, locked).click_digit(3)
        assert result["kind"] == "generated" and result["digits"] == "3"
        assert page.locator("#gen-result audio").count() == 1
    finally:
        context.close()
    assert errors == [], f"the page threw: {errors}"
