"""Optional API keys: with AUDIOVAE_API_KEYS set, every request but the health probes and
the demo page's own files must carry `Authorization: Bearer <one of them>`, else 401 in
the path's error shape (OpenAI's on /v1/audio/* and /v1/models, problem+json elsewhere).
Unset, the service is open, as before.

The demo page (`/`, `/static/*`) loads without a key, so a browser can reach it; its calls
to the API carry the key the user types into it (kept in the browser's localStorage)."""

from __future__ import annotations

import hmac

from starlette.types import ASGIApp, Receive, Scope, Send

from app.api.errors import error_response

OPEN_PATHS = frozenset({"/healthz", "/readyz", "/"})
OPEN_PREFIXES = ("/static/",)
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="audio-vae"'}


def is_open(path: str) -> bool:
    return path in OPEN_PATHS or path.startswith(OPEN_PREFIXES)


def bearer(scope: Scope) -> bytes | None:
    """The token of an `Authorization: Bearer <token>` header, if there is one."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.partition(b" ")
            return token.strip() if scheme.lower() == b"bearer" and token.strip() else None
    return None


class ApiKeyMiddleware:
    def __init__(self, app: ASGIApp, keys: list[str]) -> None:
        self.app = app
        self.keys = [key.encode() for key in keys]

    def known(self, token: bytes) -> bool:
        # Every key is compared (in constant time each): the answer's timing tells nothing.
        return sum(hmac.compare_digest(token, key) for key in self.keys) > 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_open(scope["path"]):
            return await self.app(scope, receive, send)
        token = bearer(scope)
        if token is not None and self.known(token):
            return await self.app(scope, receive, send)
        message = (
            "missing API key: send the header 'Authorization: Bearer <key>'"
            if token is None
            else "invalid API key"
        )
        response = error_response(scope["path"], 401, message, CHALLENGE, code="invalid_api_key")
        await response(scope, receive, send)
