"""Error responses of the HTTP services: one JSON shape whatever went wrong."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from analytics_pipeline.events.envelope import FieldError


class AsciiJSONResponse(JSONResponse):
    """JSON with non-ASCII escaped: error messages echo client input, which may hold unpaired
    surrogates that UTF-8 cannot encode; escaped, any string is valid JSON."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


class FieldErrorBody(BaseModel):
    field: str
    message: str


class ErrorBody(BaseModel):
    error: str
    message: str
    errors: list[FieldErrorBody] | None = None


class ApiError(Exception):
    """Raised by handlers; rendered as ``{"error", "message", "errors"?}`` with its status."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        errors: list[FieldError] | None = None,
        retry_after_s: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors
        self.retry_after_s = retry_after_s
        self.extra = extra or {}


async def render_api_error(_request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, ApiError):  # registered for ApiError only
        raise exc
    body: dict[str, Any] = {"error": exc.code, "message": exc.message}
    if exc.errors is not None:
        body["errors"] = [error.as_dict() for error in exc.errors]
    body.update(exc.extra)
    headers = {"Retry-After": str(exc.retry_after_s)} if exc.retry_after_s is not None else None
    return AsciiJSONResponse(body, status_code=exc.status, headers=headers)


async def read_json_body(request: Request, limit_bytes: int) -> Any:
    """The parsed JSON body; 413 beyond the limit (checked before and while reading), 400 if not JSON."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise ApiError(400, "invalid_header", "Content-Length must be a whole number")
        if int(declared) > limit_bytes:
            raise _too_large(limit_bytes)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit_bytes:
            raise _too_large(limit_bytes)
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks), parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise ApiError(
            400,
            "invalid_json",
            "the body is not valid JSON",
            errors=[FieldError("body", f"invalid JSON: {exc}")],
        ) from exc


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _too_large(limit_bytes: int) -> ApiError:
    return ApiError(413, "payload_too_large", f"the body exceeds {limit_bytes} bytes; split it up")
