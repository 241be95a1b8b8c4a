"""Every error leaves the service as application/problem+json (RFC 9457), except on the
OpenAI-compatible routes (/v1/audio/*, /v1/models), whose clients parse OpenAI's shape:
{"error": {"message", "type", "param", "code"}}, and 400 where the others say 422."""

from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

PROBLEM_TYPE = "about:blank"
MEDIA_TYPE = "application/problem+json"
OPENAI_PATHS = ("/v1/audio/", "/v1/models")


PROBLEM_SCHEMA = {
    "type": "object",
    "title": "Problem",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
    },
}


def problem_responses(descriptions: dict[int, str]) -> dict[int | str, dict]:
    """OpenAPI `responses` entries for problem documents, so clients and schema-driven
    fuzzers (schemathesis) know what errors look like."""
    return {
        status: {
            "description": text,
            "content": {MEDIA_TYPE: {"schema": PROBLEM_SCHEMA}},
        }
        for status, text in descriptions.items()
    }


OPENAI_ERROR_SCHEMA = {
    "type": "object",
    "title": "OpenAIError",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["message", "type", "param", "code"],
            "properties": {
                "message": {"type": "string"},
                "type": {"type": "string"},
                "param": {"type": ["string", "null"]},
                "code": {"type": ["string", "null"]},
            },
        }
    },
}


def openai_responses(descriptions: dict[int, str]) -> dict[int | str, dict]:
    """OpenAPI `responses` entries for OpenAI's error documents."""
    return {
        status: {
            "description": text,
            "content": {"application/json": {"schema": OPENAI_ERROR_SCHEMA}},
        }
        for status, text in descriptions.items()
    }


class ProblemError(Exception):
    """Raise in a route to answer with a problem document."""

    def __init__(
        self,
        status: int,
        detail: str,
        headers: dict[str, str] | None = None,
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, headers
        self.param, self.code = param, code  # OpenAI's error fields: which field, what code


def problem(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body = {
        "type": PROBLEM_TYPE,
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def is_openai(path: str) -> bool:
    return path.startswith(OPENAI_PATHS)


def openai_error(
    status: int,
    message: str,
    headers: dict[str, str] | None = None,
    param: str | None = None,
    code: str | None = None,
) -> JSONResponse:
    """OpenAI's error document; a 422 (invalid parameters) is OpenAI's 400."""
    status = 400 if status == 422 else status
    kind = {401: "authentication_error", 429: "rate_limit_error"}.get(
        status, "server_error" if status >= 500 else "invalid_request_error"
    )
    body = {"error": {"message": message, "type": kind, "param": param, "code": code}}
    return JSONResponse(body, status_code=status, headers=headers)


def error_response(
    path: str,
    status: int,
    detail: str,
    headers: dict[str, str] | None = None,
    param: str | None = None,
    code: str | None = None,
) -> JSONResponse:
    """The error in the shape the path's clients read: OpenAI's or problem+json."""
    if is_openai(path):
        return openai_error(status, detail, headers, param, code)
    return problem(status, detail, headers)


def validation_detail(errors: list[dict]) -> str:
    """Pydantic errors as one readable line: 'query.digit: Input should be ...'."""
    parts = []
    for error in errors:
        if error.get("type") == "json_invalid":
            parts.append("body: not valid JSON")
            continue
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "request"
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{where}: {message}")
    return "; ".join(parts)


def allowed_methods(request: Request, fallback: str | None) -> str | None:
    """Every method the path takes, from the OpenAPI document (built once, cached): a path
    may have several routes (GET and POST /v1/voices), and Starlette's 405 names only the
    first one's methods. Paths outside the API keep Starlette's answer."""
    operations = request.app.openapi()["paths"].get(request.url.path)
    return ", ".join(sorted(m.upper() for m in operations)) if operations else fallback


def first_field(errors: list[dict]) -> str | None:
    """The field the first validation error is about ('input', 'voice'), for OpenAI's `param`."""
    for error in errors:
        if error.get("type") == "json_invalid":
            return None
        loc = [str(p) for p in error.get("loc", ()) if p not in ("body", "query")]
        if loc:
            return ".".join(loc)
    return None


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        path = request.url.path
        return error_response(path, exc.status, exc.detail, exc.headers, exc.param, exc.code)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            allow = allowed_methods(request, (headers or {}).get("Allow"))
            headers = {**(headers or {}), **({"Allow": allow} if allow else {})}
        return error_response(request.url.path, exc.status_code, str(exc.detail), headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        detail = validation_detail(errors)
        return error_response(request.url.path, 422, detail, param=first_field(errors))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(request.url.path, 500, "internal error; it has been logged")
