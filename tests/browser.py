"""Headless Chromium for the browser tests and the README screenshot.

Playwright drives the system's Chromium (Debian's `chromium` package): Playwright's own
browser download cannot be reached from these machines."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def chromium_path() -> str | None:
    """$AUDIOVAE_CHROMIUM, else `chromium` on PATH, else /usr/bin/chromium; None if absent."""
    for candidate in (os.environ.get("AUDIOVAE_CHROMIUM"), shutil.which("chromium")):
        if candidate and Path(candidate).is_file():
            return candidate
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").is_file() else None


# A fake microphone (a beeping tone) that needs no permission prompt.
FAKE_MICROPHONE = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]


def launch(playwright, executable: str, extra: list[str] | None = None):
    return playwright.chromium.launch(
        executable_path=executable, args=ARGS + (extra or []), timeout=60_000
    )
