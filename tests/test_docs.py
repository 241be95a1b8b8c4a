"""The README and docs/: every relative link resolves (files, and #anchors to a heading),
every page of docs/ is reachable from the README, and the README stays one short page.
Reads Markdown only: no network, no imports from the project."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
DOCS = REPO / "docs"
PAGES = [README, *sorted(DOCS.glob("*.md"))]
MAX_README_LINES = 300

FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"(`+)(?!`).+?(?<!`)\1", re.DOTALL)
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
HTML_TARGET = re.compile(
    r"<(?:img|a|source|audio|video)\b[^>]*?\b(?:src|href)\s*=\s*[\"']([^\"']+)[\"']", re.IGNORECASE
)
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.+?)\s*#*\s*$", re.MULTILINE)
HTML_ANCHOR = re.compile(r"<a\s[^>]*\b(?:name|id)\s*=\s*[\"']([^\"']+)[\"']", re.IGNORECASE)
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # http:, https:, mailto:, ...


def prose(text: str) -> str:
    """The text with fenced code blocks and code spans blanked out: `[x](y)` in code is code."""
    text = FENCE.sub("", text)
    return CODE_SPAN.sub("``", text)


def targets(text: str) -> list[str]:
    body = prose(text)
    found = INLINE_LINK.findall(body) + REFERENCE_DEF.findall(body)
    return found + HTML_TARGET.findall(FENCE.sub("", text))  # <img src>: raw HTML in the page


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: markup dropped, lower case, punctuation removed, spaces
    to hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text stays
    text = re.sub(r"<[^>]+>", "", text).replace("`", "").lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    seen: dict[str, int] = {}
    found = set(HTML_ANCHOR.findall(text))
    for _, title in HEADING.findall(text):
        base = slug(title)
        n = seen.get(base, 0)
        seen[base] = n + 1
        found.add(base if n == 0 else f"{base}-{n}")
    return found


def broken_links(page: Path) -> list[str]:
    problems = []
    for target in targets(page.read_text(encoding="utf-8")):
        if EXTERNAL.match(target) or target.startswith("//"):
            continue
        path_part, _, fragment = target.partition("#")
        path_part = unquote(path_part.split("?", 1)[0])
        if path_part.startswith("/"):
            problems.append(f"{target}: absolute path (use one relative to the page)")
            continue
        resolved = (page.parent / path_part).resolve() if path_part else page
        if not resolved.exists():
            problems.append(f"{target}: no such file")
        elif not resolved.is_relative_to(REPO):
            problems.append(f"{target}: outside the repository")
        elif fragment and resolved.suffix == ".md" and unquote(fragment) not in anchors(resolved):
            problems.append(f"{target}: no heading with anchor #{fragment} in {resolved.name}")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_resolves(page: Path):
    assert not broken_links(page), f"{page.relative_to(REPO)}: {broken_links(page)}"


def test_the_readme_is_short():
    lines = README.read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_README_LINES, f"README.md is {lines} lines: move a section to docs/"


def test_every_docs_page_is_reachable_from_the_readme():
    reached, queue = set(), [README.resolve()]
    while queue:
        page = queue.pop()
        if page in reached:
            continue
        reached.add(page)
        for target in targets(page.read_text(encoding="utf-8")):
            path_part = unquote(target.partition("#")[0])
            if path_part.endswith(".md") and not EXTERNAL.match(path_part):
                linked = (page.parent / path_part).resolve()
                if linked.exists():
                    queue.append(linked)
    orphans = [p.name for p in DOCS.glob("*.md") if p.resolve() not in reached]
    assert not orphans, f"docs pages no link leads to from README.md: {orphans}"


def test_the_checker_sees_links_and_skips_code():
    text = (
        '[a](docs/api.md#the-api) ![b](docs/demo.png) <img src="x.png" alt="">\n'
        '`[not](a-link.md)` and\n```sh\n[nor](this.md)\n```\n[c]: ref.md "title"\n'
        "[d](https://example.com) [e](#here)\n"
    )
    assert targets(text) == ["docs/api.md#the-api", "docs/demo.png", "https://example.com",
                             "#here", "ref.md", "x.png"]  # fmt: skip
    heading = "Voices: `GET /v1/voices`, `POST /v1/voices`"
    assert slug(heading) == "voices-get-v1voices-post-v1voices"
    assert slug("From magnitudes to sound") == "from-magnitudes-to-sound"
