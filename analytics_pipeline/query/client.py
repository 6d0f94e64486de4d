"""A small client of the metrics API, for the CLI and the demo."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import httpx

from analytics_pipeline.timeutil import format_rfc3339


@dataclass(frozen=True)
class Point:
    timestamp: str
    value: int
    unique_users: int


class MetricsClient:
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
        return [Point(p["timestamp"], p["value"], p["uniqueUsers"]) for p in response.json()["data"]]

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> MetricsClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
