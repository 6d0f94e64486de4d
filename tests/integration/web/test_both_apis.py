"""What both HTTP services promise alike: docs pages that need no internet, an OpenAPI document
that lists the statuses they really answer, and one readiness shape."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

pytestmark = pytest.mark.integration


class AssetLinks(HTMLParser):
    """Every script, stylesheet and icon a page loads, and the URLs its inline script names."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script":
            self._in_script = values.get("src") is None
        for name in ("src", "href"):
            if values.get(name):
                self.links.append(values[name] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.inline.append(data)


@pytest.fixture(params=["ingest", "query"])
def service(request: pytest.FixtureRequest) -> httpx.Client:
    server = request.getfixturevalue("ingest_server" if request.param == "ingest" else "query_server")
    with httpx.Client(base_url=server.url, timeout=10) as client:
        yield client


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_every_asset_from_the_service_itself(service: httpx.Client, page: str):
    response = service.get(page)
    assert response.status_code == 200
    parser = AssetLinks()
    parser.feed(response.text)
    assert parser.links, "the page loads its scripts"
    origin = urlsplit(str(service.base_url)).netloc
    for link in parser.links:
        url = urljoin(f"{service.base_url}{page}", link)
        assert urlsplit(url).netloc == origin, f"{page} loads {link} from another host"
        asset = service.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 1_000 or url.endswith(".png"), f"{url} is empty"
    named = re.findall(r"https?://[^\s'\"]+", "".join(parser.inline))
    assert all(urlsplit(u).netloc == origin for u in named), named


def test_openapi_lists_400_and_never_422(service: httpx.Client):
    spec = service.get("/openapi.json").json()
    statuses = {s for path in spec["paths"].values() for op in path.values() for s in op["responses"]}
    assert "422" not in statuses
    assert "400" in statuses
    assert "HTTPValidationError" not in spec.get("components", {}).get("schemas", {})


def test_readiness_names_each_dependency_with_ok(service: httpx.Client):
    ready = service.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert "redis" in body
    assert set(body.values()) == {"ok"}
