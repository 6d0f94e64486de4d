"""The query of ``GET /v1/metrics/{metric}``, checked field by field (400s name the field)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime

from analytics_pipeline.events.envelope import EVENT_TYPE_PATTERN, FieldError, parse_timestamp_field
from analytics_pipeline.realtime.windows import Granularity, window_start, window_starts

_METRIC = re.compile(EVENT_TYPE_PATTERN)  # all_events, active_users, or an eventType


@dataclass(frozen=True)
class MetricRequest:
    metric: str
    granularity: Granularity
    start: datetime
    end: datetime

    @property
    def window_starts(self) -> list[datetime]:
        return window_starts(self.start, self.end, self.granularity)


def parse_metric_request(
    metric: str,
    start_time: str | None,
    end_time: str | None,
    granularity: str | None,
    *,
    max_windows: int,
) -> tuple[MetricRequest | None, list[FieldError]]:
    errors = []
    if not _METRIC.fullmatch(metric):
        errors.append(
            FieldError("metric", f"must be all_events, active_users or an eventType ({EVENT_TYPE_PATTERN})")
        )
    choices = ", ".join(g.value for g in Granularity)
    try:
        parsed_granularity = Granularity(Granularity.MINUTE if granularity is None else granularity)
    except ValueError:
        parsed_granularity = None
        errors.append(FieldError("granularity", f"must be one of {choices}"))
    start, end = None, None
    for field, value in (("startTime", start_time), ("endTime", end_time)):
        if value is None:
            errors.append(FieldError(field, "is required (RFC 3339, e.g. 2026-11-26T12:00:00Z)"))
            continue
        moment, error = parse_timestamp_field(field, value)
        if error:
            errors.append(error)
        elif field == "startTime":
            start = moment
        else:
            end = moment
    if start and end and end <= start:
        errors.append(FieldError("endTime", "must be after startTime"))
    if errors or not (start and end and parsed_granularity):
        return None, errors
    width = parsed_granularity.seconds
    windows = math.ceil((end - window_start(start, parsed_granularity)).total_seconds() / width)
    if windows > max_windows:
        message = (
            f"the range spans {windows} windows of {parsed_granularity}; at most {max_windows} per query"
        )
        return None, [FieldError("endTime", message)]
    return MetricRequest(metric, parsed_granularity, start, end), []
