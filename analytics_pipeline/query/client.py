"""A small client of the query API (metrics, SQL, event lookup), for the CLI and the demo."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from analytics_pipeline.timeutil import format_rfc3339


@dataclass(frozen=True)
class Point:
    timestamp: str
    value: int
    unique_users: int
    source: str = "cache"  # cache (Redis) or warehouse (the lake)


class QueryClient:
    def __init__(self, base_url: str, api_key: str, timeout_s: float = 10.0) -> None:
        self._http = httpx.Client(
            base_url=base_url, headers={"Authorization": f"Bearer {api_key}"}, timeout=timeout_s
        )

    def series(self, metric: str, granularity: str, start: datetime, end: datetime) -> list[Point]:
        """One point per window in [start, end); ``httpx.HTTPStatusError`` names what was refused."""
        response = self._http.get(
            f"/v1/metrics/{metric}",
            params={
                "startTime": format_rfc3339(start),
                "endTime": format_rfc3339(end),
                "granularity": granularity,
            },
        )
        response.raise_for_status()
        return [
            Point(p["timestamp"], p["value"], p["uniqueUsers"], p.get("source", "cache"))
            for p in response.json()["data"]
        ]

    def sql(self, statement: str) -> dict[str, Any]:
        """The answer of ``POST /v1/query`` (columns, rows, cached, elapsedMs, lakeCompleteUpTo)."""
        response = self._http.post("/v1/query", json={"sql": statement})
        response.raise_for_status()
        return response.json()

    def event(self, event_id: str) -> dict[str, Any] | None:
        """Where the event is, or None when the service knows nothing of it (404)."""
        response = self._http.get(f"/v1/events/{event_id}")
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> QueryClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
