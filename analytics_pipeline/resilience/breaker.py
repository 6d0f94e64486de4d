"""A failure-rate circuit breaker for asyncio calls.

pybreaker counts consecutive failures and has no asyncio support; the design asks for a breaker
that opens when half of the calls within one minute fail, so this one keeps a sliding window of
outcomes. Closed: calls pass and are recorded. Open: calls are refused at once. After the reset
timeout one probe is let through (half-open); its outcome closes or re-opens the circuit.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Awaitable, Callable
from enum import IntEnum
from typing import TypeVar

T = TypeVar("T")


class BreakerState(IntEnum):
    CLOSED = 0
    HALF_OPEN = 1
    OPEN = 2


class CircuitOpenError(Exception):
    """Raised instead of calling a dependency that the breaker considers down."""


class FailureRateBreaker:
    """Opens when ``failure_ratio`` of at least ``min_calls`` calls within ``window_s`` failed."""

    def __init__(
        self,
        name: str,
        *,
        failure_ratio: float = 0.5,
        window_s: float = 60.0,
        min_calls: int = 5,
        reset_timeout_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self._failure_ratio = failure_ratio
        self._window_s = window_s
        self._min_calls = min_calls
        self._reset_timeout_s = reset_timeout_s
        self._clock = clock
        self._outcomes: deque[tuple[float, bool]] = deque()  # (when, failed)
        self._failures = 0
        self._state = BreakerState.CLOSED
        self._opened_at = 0.0
        self._probe_in_flight = False

    @property
    def state(self) -> BreakerState:
        if self._state is BreakerState.OPEN and self._clock() - self._opened_at >= self._reset_timeout_s:
            return BreakerState.HALF_OPEN
        return self._state

    async def call(self, operation: Callable[[], Awaitable[T]]) -> T:
        """Run the operation under the breaker; ``CircuitOpenError`` when it is not allowed."""
        probing = self._admit()
        try:
            result = await operation()
        except Exception:
            self._record(failed=True, probing=probing)
            raise
        except BaseException:  # cancelled: no verdict on the dependency, but free the probe slot
            if probing:
                self._probe_in_flight = False
            raise
        self._record(failed=False, probing=probing)
        return result

    def _admit(self) -> bool:
        state = self.state
        if state is BreakerState.CLOSED:
            return False
        if state is BreakerState.HALF_OPEN and not self._probe_in_flight:
            self._probe_in_flight = True
            return True
        raise CircuitOpenError(f"{self.name} circuit is open; skipping the call")

    def _record(self, *, failed: bool, probing: bool) -> None:
        now = self._clock()
        if probing:
            self._probe_in_flight = False
            if failed:
                self._open(now)
            else:
                self._close()
            return
        if self._state is not BreakerState.CLOSED:
            return  # a call admitted before the circuit opened; its outcome is stale
        self._outcomes.append((now, failed))
        self._failures += failed
        while self._outcomes and now - self._outcomes[0][0] > self._window_s:
            _when, old_failed = self._outcomes.popleft()
            self._failures -= old_failed
        calls = len(self._outcomes)
        if calls >= self._min_calls and self._failures / calls >= self._failure_ratio:
            self._open(now)

    def _open(self, now: float) -> None:
        self._state = BreakerState.OPEN
        self._opened_at = now

    def _close(self) -> None:
        self._state = BreakerState.CLOSED
        self._outcomes.clear()
        self._failures = 0
