"""The demo page: `GET /` and its static files, served by the app itself.

Plain HTML, CSS and ES modules (app/static/), no build step and nothing fetched from
another origin; the Content-Security-Policy below holds the page to that."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from app.api.errors import ProblemError

router = APIRouter(include_in_schema=False)

STATIC = Path(__file__).resolve().parents[1] / "static"
MEDIA = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
# Only the files found here at start-up are served (the page's ES modules and its style):
# no path from the URL ever reaches the file system.
ASSETS = {
    path.relative_to(STATIC).as_posix(): MEDIA[path.suffix]
    for path in sorted(STATIC.rglob("*"))
    if path.suffix in MEDIA
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


@router.api_route("/static/{name:path}", methods=["GET", "HEAD"])
async def static(name: str) -> FileResponse:
    if name not in ASSETS:
        raise ProblemError(404, f"no static file named {name!r}")
    return FileResponse(STATIC / name, media_type=ASSETS[name], headers=HEADERS)
