"""Bounded concurrency for lakehouse work: a few queries at once, a short wait for a turn, then
503. Answers from the cache and Redis never take a turn, so they keep their usual latency."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from analytics_pipeline.web.errors import ApiError


class LakeGate:
    def __init__(self, slots: int, wait_s: float) -> None:
        self._slots = asyncio.Semaphore(slots)
        self._size = slots
        self._wait_s = wait_s

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """A turn at the lake, or 503 with Retry-After when none frees up within the wait."""
        try:
            await asyncio.wait_for(self._slots.acquire(), self._wait_s)
        except TimeoutError as exc:
            raise ApiError(
                503,
                "overloaded",
                f"{self._size} lakehouse queries are running and none finished within {self._wait_s:g} s; "
                "retry later (cached answers and real-time metrics are still served)",
                retry_after_s=max(1, round(self._wait_s)),
            ) from exc
        try:
            yield
        finally:
            self._slots.release()
