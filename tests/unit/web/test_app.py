"""build_app: a parameter FastAPI itself refuses answers 400 in the services' error shape, and the
OpenAPI document says so (no 422 anywhere)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import APIRouter
from starlette.testclient import TestClient

from analytics_pipeline.web.app import build_app


class NoService:
    async def close(self) -> None:
        return None


router = APIRouter()


@router.get("/items/{item_id}")
async def item(item_id: int, limit: int = 10) -> dict[str, int]:
    return {"item": item_id, "limit": limit}


@pytest.fixture
def client() -> Iterator[TestClient]:
    app = build_app(title="t", description="d", router=router, service_factory=NoService)
    with TestClient(app) as test_client:
        yield test_client


def test_bad_parameters_answer_400_naming_each(client: TestClient) -> None:
    response = client.get("/items/x", params={"limit": "many"})
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_request"
    assert {e["field"] for e in body["errors"]} == {"item_id", "limit"}


def test_good_parameters_pass(client: TestClient) -> None:
    assert client.get("/items/3").json() == {"item": 3, "limit": 10}


def test_the_openapi_document_has_no_422(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "422" not in spec["paths"]["/items/{item_id}"]["get"]["responses"]
    assert "HTTPValidationError" not in spec.get("components", {}).get("schemas", {})
