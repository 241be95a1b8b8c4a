"""The demo page in a real headless Chromium, for the test_browser_* modules: the `browser`
and `demo` fixtures (tests/conftest.py registers them), the Page wrapper, and the hash of
what the service gives for the same request."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import httpx
import pytest

from benchmarks.server import Server
from tests.browser import FAKE_MICROPHONE, chromium_path, launch

CLIP_SECONDS = 0.8  # the contract's clip length (17,640 samples at 22,050 Hz)
TIMEOUT_MS = 30_000  # generous: two shared cores


# Module-scoped, not session: Playwright's sync API keeps an event loop running in the
# main thread while it is open, and later tests' asyncio.run() would find it.
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
