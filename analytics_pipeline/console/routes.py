"""The web console: one page at ``/console``, its script and style, and Plotly's bundle from the
installed ``plotly`` package, so nothing is fetched from a CDN. The page signs in with a
project's API key, keeps it in the tab's sessionStorage, and sends it only in the
``Authorization`` header of its calls to this service's JSON API, never in a URL."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from analytics_pipeline.web.errors import ApiError

router = APIRouter(include_in_schema=False)

STATIC = Path(__file__).parent / "static"
_MEDIA_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}
_OWN_ASSETS = ("console.js", "console.css")
PLOTLY_BUNDLE = "plotly.min.js"
# The page is small and changes with the release; the bundle is large and versioned by its package.
_PAGE_HEADERS = {"Cache-Control": "no-cache", "Referrer-Policy": "no-referrer"}
_BUNDLE_HEADERS = {"Cache-Control": "max-age=86400"}


def plotly_bundle() -> Path:
    return Path(str(files("plotly") / "package_data" / PLOTLY_BUNDLE))


@router.get("/console")
async def console_page() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html", headers=_PAGE_HEADERS)


@router.get("/console/assets/{name}")
async def console_asset(name: str) -> FileResponse:
    if name == PLOTLY_BUNDLE:
        return FileResponse(plotly_bundle(), media_type="text/javascript", headers=_BUNDLE_HEADERS)
    if name not in _OWN_ASSETS:
        raise ApiError(404, "not_found", f"the console has no asset named {name}")
    path = STATIC / name
    return FileResponse(path, media_type=_MEDIA_TYPES[path.suffix], headers=_PAGE_HEADERS)
