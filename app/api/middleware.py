"""Pure ASGI middleware: body-size limits enforced while reading, and one structured log
line plus metrics per request."""

from __future__ import annotations

import json
import logging
import time
import uuid

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api import metrics
from app.api.errors import error_response

log = logging.getLogger("app.access")


class BodyLimitMiddleware:
    """Refuse bodies over a per-path limit with 413: at once when Content-Length says so,
    otherwise as soon as the bytes read so far pass it (the rest is never read)."""

    def __init__(self, app: ASGIApp, limits: dict[str, int], default: int) -> None:
        self.app, self.limits, self.default = app, limits, default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.limits.get(scope["path"], self.default)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            detail = f"the request body exceeds the limit of {limit} bytes"
            response = error_response(scope["path"], 413, detail)
            return await response(scope, receive, send)
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise HTTPException(413, f"the request body exceeds the limit of {limit} bytes")
            return message

        await self.app(scope, limited_receive, send)


class AccessMiddleware:
    """Request id, in-flight gauge, latency histogram, request counter and a JSON log line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request_id = uuid.uuid4().hex[:16]
        status = 500
        start = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        metrics.IN_FLIGHT.inc()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            metrics.IN_FLIGHT.dec()
            seconds = time.perf_counter() - start
            route = scope.get("route")
            template = route.path if route is not None else "<unmatched>"
            method = scope["method"]
            metrics.REQUESTS.labels(method, template, str(status)).inc()
            metrics.LATENCY.labels(method, template).observe(seconds)
            log.info(
                json.dumps(
                    {
                        "request_id": request_id,
                        "method": method,
                        "path": scope["path"],
                        "status": status,
                        "ms": round(seconds * 1000, 2),
                        "client": (scope.get("client") or ("?",))[0],
                    }
                )
            )
