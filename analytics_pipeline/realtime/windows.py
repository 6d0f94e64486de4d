"""Tumbling event-time windows in UTC: 1 minute, 1 hour, 1 day."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from enum import StrEnum


class Granularity(StrEnum):
    MINUTE = "1m"
    HOUR = "1h"
    DAY = "1d"

    @property
    def seconds(self) -> int:
        return _SECONDS[self]

    @property
    def width(self) -> timedelta:
        return timedelta(seconds=self.seconds)


_SECONDS = {Granularity.MINUTE: 60, Granularity.HOUR: 3_600, Granularity.DAY: 86_400}


def window_start(moment: datetime, granularity: Granularity) -> datetime:
    """The start of the window holding ``moment`` (windows are aligned to the Unix epoch, in UTC)."""
    epoch_s = math.floor(moment.timestamp()) // granularity.seconds * granularity.seconds
    return datetime.fromtimestamp(epoch_s, UTC)


def window_starts(start: datetime, end: datetime, granularity: Granularity) -> list[datetime]:
    """Every window start in [window_start(start), end): the windows a range query covers."""
    current, width, starts = window_start(start, granularity), granularity.width, []
    while current < end:
        starts.append(current)
        current += width
    return starts


def format_window(moment: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ``: the form window starts take in keys and answers."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
