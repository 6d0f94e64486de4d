"""``analytics serve ingest|query``: run an HTTP API in the foreground."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from analytics_pipeline.settings import get_settings
from analytics_pipeline.stack.api_servers import INGEST_APP, QUERY_APP

app = typer.Typer(help="Run a service in the foreground (the stack runs them in the background).")


@app.command("ingest")
def ingest(
    host: Annotated[str | None, typer.Option(help="Default: ANALYTICS_INGEST_HOST (127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Default: ANALYTICS_INGEST_PORT (8000).")] = None,
) -> None:
    """Serve POST /v1/events and /v1/batch; OpenAPI at /docs."""
    settings = get_settings()
    uvicorn.run(
        INGEST_APP, factory=True, host=host or settings.ingest_host, port=port or settings.ingest_port
    )


@app.command("query")
def query(
    host: Annotated[str | None, typer.Option(help="Default: ANALYTICS_QUERY_HOST (127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Default: ANALYTICS_QUERY_PORT (8001).")] = None,
) -> None:
    """Serve GET /v1/metrics/{metric}; OpenAPI at /docs."""
    settings = get_settings()
    uvicorn.run(QUERY_APP, factory=True, host=host or settings.query_host, port=port or settings.query_port)
