"""read_json_body and the error responses, through a tiny FastAPI app (no services)."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI, Request
from starlette.exceptions import StarletteDeprecationWarning

from analytics_pipeline.events.envelope import FieldError
from analytics_pipeline.web.errors import (
    ApiError,
    AsciiJSONResponse,
    read_json_body,
    render_api_error,
)

# httpx2 is not among the project's dependencies; starlette warns once at import about plain httpx.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

LIMIT = 64


def build_app(limit_bytes: int) -> FastAPI:
    app = FastAPI(default_response_class=AsciiJSONResponse)
    app.add_exception_handler(ApiError, render_api_error)

    @app.post("/echo")
    async def echo(request: Request) -> AsciiJSONResponse:
        return AsciiJSONResponse({"body": await read_json_body(request, limit_bytes)})

    @app.get("/limited")
    async def limited() -> None:
        raise ApiError(
            429,
            "rate_limited",
            "too many events; slow down",
            errors=[FieldError("userId", "over its limit")],
            retry_after_s=3,
            extra={"limit": "10/second"},
        )

    return app


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(build_app(LIMIT)) as test_client:
        yield test_client


def chunks(total: int, size: int = 16) -> Iterator[bytes]:
    """A body sent without Content-Length (chunked), so only the streamed size can be checked."""
    body = b"[" + b" " * (total - 2) + b"]"
    for start in range(0, total, size):
        yield body[start : start + size]


def assert_invalid_json(response: Any) -> None:
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_json"
    assert [error["field"] for error in body["errors"]] == ["body"]
    assert body["errors"][0]["message"].startswith("invalid JSON: ")


class TestReadJsonBody:
    def test_parses_a_json_body(self, client: TestClient) -> None:
        response = client.post("/echo", content=b'{"a": [1, 2.5, "x", null, true]}')
        assert response.status_code == 200
        assert response.json() == {"body": {"a": [1, 2.5, "x", None, True]}}

    def test_a_body_of_exactly_the_limit_is_accepted(self, client: TestClient) -> None:
        body = b"[" + b" " * (LIMIT - 2) + b"]"
        assert client.post("/echo", content=body).status_code == 200

    def test_declared_content_length_over_the_limit_is_413(self, client: TestClient) -> None:
        response = client.post("/echo", content=b"[" + b" " * (LIMIT - 1) + b"]")
        assert response.status_code == 413
        assert response.json() == {
            "error": "payload_too_large",
            "message": f"the body exceeds {LIMIT} bytes; split it up",
        }

    def test_streamed_body_over_the_limit_without_content_length_is_413(self, client: TestClient) -> None:
        response = client.post("/echo", content=chunks(LIMIT + 1))
        assert "content-length" not in response.request.headers
        assert response.status_code == 413
        assert response.json()["error"] == "payload_too_large"

    def test_streamed_body_within_the_limit_is_read_whole(self, client: TestClient) -> None:
        response = client.post("/echo", content=chunks(LIMIT))
        assert "content-length" not in response.request.headers
        assert response.status_code == 200
        assert response.json() == {"body": []}

    def test_non_numeric_content_length_is_400(self, client: TestClient) -> None:
        response = client.post("/echo", content=b"[]", headers={"content-length": "2x"})
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_header"

    @pytest.mark.parametrize("body", [b"{bad", b"", b"[1,]", b"{'a': 1}", b"\xff\xfe", b"[1] [2]"])
    def test_invalid_json_is_400_naming_the_body(self, client: TestClient, body: bytes) -> None:
        assert_invalid_json(client.post("/echo", content=body))

    @pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
    def test_non_standard_constants_are_refused(self, client: TestClient, constant: str) -> None:
        response = client.post("/echo", content=f'{{"x": {constant}}}'.encode())
        assert_invalid_json(response)
        assert constant in response.json()["errors"][0]["message"]

    def test_deep_nesting_is_400_not_500(self) -> None:
        depth = 100_000
        with TestClient(build_app(10 * depth), raise_server_exceptions=False) as deep_client:
            response = deep_client.post("/echo", content=b"[" * depth + b"]" * depth)
        assert_invalid_json(response)


class TestErrorRendering:
    def test_api_error_renders_code_message_errors_extra_and_retry_after(self, client: TestClient) -> None:
        response = client.get("/limited")
        assert response.status_code == 429
        assert response.headers["retry-after"] == "3"
        assert response.json() == {
            "error": "rate_limited",
            "message": "too many events; slow down",
            "errors": [{"field": "userId", "message": "over its limit"}],
            "limit": "10/second",
        }

    def test_errors_and_retry_after_are_absent_when_not_given(self, client: TestClient) -> None:
        response = client.post("/echo", content=b"[" + b" " * LIMIT + b"]")
        assert "errors" not in response.json()
        assert "retry-after" not in response.headers


class TestAsciiJSONResponse:
    def test_a_lone_surrogate_is_escaped_into_valid_ascii_json(self) -> None:
        rendered = AsciiJSONResponse({"message": "bad key \ud800"}).body
        assert rendered == b'{"message":"bad key \\ud800"}'
        assert json.loads(rendered) == {"message": "bad key \ud800"}

    def test_non_ascii_text_is_escaped(self) -> None:
        rendered = AsciiJSONResponse({"city": "Zürich", "mood": "😀"}).body
        rendered.decode("ascii")
        assert b"\\u00fc" in rendered
        assert b"\\ud83d\\ude00" in rendered
        assert json.loads(rendered) == {"city": "Zürich", "mood": "😀"}

    def test_echoed_surrogate_survives_a_round_trip_through_the_app(self, client: TestClient) -> None:
        response = client.post("/echo", content=b'{"k": "\\ud800"}')
        assert response.status_code == 200
        assert response.content == b'{"body":{"k":"\\ud800"}}'
