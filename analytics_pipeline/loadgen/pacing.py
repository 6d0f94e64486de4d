"""Even spacing of events at a target rate, so a rate of 100/s means one every 10 ms, not bursts."""

from __future__ import annotations

import time
from collections.abc import Callable

# Lag that is made up by sending faster; beyond it (say, after a wait on a full queue) the
# schedule restarts from now instead of bursting to catch up.
CATCH_UP_S = 0.05


class Pacer:
    def __init__(
        self,
        rate: float | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate is not None and rate <= 0:
            raise ValueError(f"rate must be positive events per second, not {rate}; omit it for no limit")
        self._interval = 0.0 if rate is None else 1 / rate
        self._clock = clock
        self._sleep = sleep
        self._due: float | None = None

    def wait(self) -> None:
        """Return when the next event is due; at once when there is no rate."""
        if not self._interval:
            return
        now = self._clock()
        if self._due is None or self._due < now - CATCH_UP_S:
            self._due = now
        elif self._due > now:
            self._sleep(self._due - now)
        self._due += self._interval
