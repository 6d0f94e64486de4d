"""A small in-process cache whose entries expire, for lookups that may be a little stale."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

MISSING = object()  # pass as ``default`` to tell a cached None from no entry


class TTLCache(Generic[K, V]):
    """Least-recently-set eviction beyond ``max_entries``; each entry carries its own TTL."""

    def __init__(self, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._max_entries = max_entries
        self._clock = clock

    def get(self, key: K, default: V | None = None) -> V | None:
        entry = self._entries.get(key, MISSING)
        if entry is MISSING:
            return default
        expires_at, value = entry  # type: ignore[misc]
        if self._clock() >= expires_at:
            del self._entries[key]
            return default
        return value

    def __contains__(self, key: K) -> bool:
        return self.get(key, MISSING) is not MISSING  # type: ignore[arg-type]

    def set(self, key: K, value: V, ttl_s: float) -> None:
        self._entries[key] = (self._clock() + ttl_s, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()
