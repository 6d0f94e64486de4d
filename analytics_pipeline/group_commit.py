"""Group commit: the items of concurrent requests go to Redis (or Kafka) in one call.

While one flush runs, the items that arrive wait and are flushed together next, so a busy
process makes one round trip for many requests, and an idle one adds no wait (a lone item is
flushed on the next turn of the event loop). This is how a database writes its log.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class GroupCommit(Generic[T, R]):
    """``submit(items)`` answers with ``flush``'s results for those items, in order; if the
    flush raises, every caller of that group gets the exception."""

    def __init__(self, flush: Callable[[list[T]], Awaitable[Sequence[R]]]) -> None:
        self._flush = flush
        self._waiting: list[tuple[list[T], asyncio.Future[list[R]]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self.flushes = 0  # how many calls the groups took: tests and benchmarks read it

    async def submit(self, items: Sequence[T]) -> list[R]:
        if not items:
            return []
        future: asyncio.Future[list[R]] = asyncio.get_running_loop().create_future()
        self._waiting.append((list(items), future))
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush_while_waiting())
        return await future

    async def _flush_while_waiting(self) -> None:
        try:
            while self._waiting:
                group, self._waiting = self._waiting, []
                await self._flush_group(group)
        finally:
            self._flusher = None

    async def _flush_group(self, group: list[tuple[list[T], asyncio.Future[list[R]]]]) -> None:
        self.flushes += 1
        try:
            results = list(await self._flush([item for items, _ in group for item in items]))
        except Exception as exc:  # noqa: BLE001 - handed to every caller of the group
            for _, future in group:
                if not future.done():
                    future.set_exception(exc)
            return
        start = 0
        for items, future in group:
            if not future.done():  # a caller that was cancelled no longer waits
                future.set_result(results[start : start + len(items)])
            start += len(items)
