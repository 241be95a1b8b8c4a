"""The demo page's voice library: every built-in voice listed low to high with its
description, heard in a short number (the service's own bytes), and chosen for the digits."""

from __future__ import annotations

import httpx

from tests.demo_page import Page, server_sha256


def test_the_library_lists_every_voice_and_plays_one(demo: Page) -> None:
    page = demo.page
    listed = httpx.get(f"{demo.server.url}/v1/voices", timeout=30).json()
    rows = page.locator("#library-list .voice")
    rows.first.wait_for()
    assert rows.count() == len(listed["voices"])
    ids = [rows.nth(i).get_attribute("data-voice") for i in range(rows.count())]
    pitch = {v["id"]: v["f0_hz"] for v in listed["voices"]}
    assert [pitch[i] for i in ids] == sorted(pitch.values())  # low to high
    assert listed["credit"] and listed["credit"] in page.locator("#library-credit").inner_text()

    lowest = ids[0]
    before = len(demo.results())
    rows.first.get_by_role("button", name="Hear").click()
    played = demo.wait_for_result(before)
    assert played["kind"] == "library" and played["voice"] == lowest
    assert played["sha256"] == server_sha256(demo.server, digits="2468", voice=lowest, seed=1)
    assert demo.duration("#library-result audio") > 1.0  # four digits and their gaps

    rows.nth(1).get_by_role("button", name="Use").click()
    assert page.eval_on_selector("#voice", "s => s.value") == ids[1]
