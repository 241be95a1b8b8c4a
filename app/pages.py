"""The demo page: `GET /` and its three static files, served by the app itself.

Plain HTML, CSS and one script (app/static/), no build step and nothing fetched from
another origin; the Content-Security-Policy below holds the page to that."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from app.errors import ProblemError

router = APIRouter(include_in_schema=False)

STATIC = Path(__file__).resolve().parent / "static"
# Only these files are served: no path from the URL ever reaches the file system.
ASSETS = {
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "media-src 'self' blob:; img-src 'self' data: blob:; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


@router.api_route("/", methods=["GET", "HEAD"])
async def index() -> FileResponse:
    return FileResponse(
        STATIC / "index.html", media_type="text/html; charset=utf-8", headers=HEADERS
    )


@router.api_route("/static/{name}", methods=["GET", "HEAD"])
async def static(name: str) -> FileResponse:
    if name not in ASSETS:
        raise ProblemError(404, f"no static file named {name!r}")
    return FileResponse(STATIC / name, media_type=ASSETS[name], headers=HEADERS)
