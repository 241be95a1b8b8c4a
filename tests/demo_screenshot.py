"""Re-make the README's screenshot of the demo page (docs/demo.png):

    .venv/bin/python -m tests.demo_screenshot [docs/demo.png]

Starts a real server on the default bundle, speaks a digit with a fixed seed,
reconstructs a generated clip, and saves the top of the page (both demos)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

from tests.browser import chromium_path, launch
from tests.conftest import DEFAULT_BUNDLE, REPO, Server


def main(out: Path) -> None:
    executable = chromium_path()
    if executable is None:
        sys.exit("no Chromium found (apt-get install chromium, or set AUDIOVAE_CHROMIUM)")
    server = Server(DEFAULT_BUNDLE)
    try:
        server.wait_ready()
        clip = httpx.post(f"{server.url}/generate", params={"digit": 4, "seed": 11}, timeout=60)
        with sync_playwright() as playwright, tempfile.TemporaryDirectory() as tmp:
            browser = launch(playwright, executable)
            page = browser.new_page(viewport={"width": 800, "height": 1000})
            page.set_default_timeout(60_000)
            page.goto(server.url + "/")
            page.wait_for_selector("#model-info .model-summary")
            page.get_by_label("Seed", exact=True).fill("7")
            page.get_by_role("button", name="Speak digit 3").click()
            page.wait_for_selector("#gen-result canvas[data-drawn]")
            upload = Path(tmp) / "four.wav"
            upload.write_bytes(clip.content)
            page.get_by_label("Audio file").set_input_files(upload)
            page.get_by_role("button", name="Reconstruct").click()
            page.wait_for_selector(
                "#rec-result .result[data-kind=reconstruction] canvas[data-drawn]"
            )
            # A still page: players stopped at the start, no focus ring.
            page.evaluate(
                """() => Promise.all([...document.querySelectorAll('audio')].map(a => {
                       a.pause(); a.currentTime = 0;
                       return a.readyState >= 1 ? null : new Promise(r => a.onloadedmetadata = r);
                   })).then(() => document.activeElement.blur())"""
            )
            out.parent.mkdir(parents=True, exist_ok=True)
            # The two demos; the model's figures below them are text the README already has.
            bottom = page.evaluate(
                "() => document.querySelector('#rec-title').closest('section')"
                ".getBoundingClientRect().bottom + window.scrollY + 16"
            )
            page.screenshot(
                path=str(out), full_page=True, clip={"x": 0, "y": 0, "width": 800, "height": bottom}
            )
            browser.close()
    finally:
        server.stop()
    try:  # a palette image is a third of the size; Pillow is optional
        from PIL import Image

        Image.open(out).convert("RGB").quantize(colors=128).save(out, optimize=True)
    except ImportError:
        pass
    print(f"wrote {out} ({out.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "docs" / "demo.png")
