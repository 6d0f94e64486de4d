"""RFC 3339 timestamps: strict parsing and one canonical output form."""

from __future__ import annotations

import re
from datetime import UTC, datetime

# RFC 3339 section 5.6: a full date, T (or t or a space), a full time with a mandatory offset.
RFC3339_PATTERN = (
    r"^(?P<date>\d{4}-\d{2}-\d{2})[Tt ](?P<time>\d{2}:\d{2}:\d{2})"
    r"(?:\.(?P<fraction>\d{1,9}))?(?P<offset>[Zz]|[+-]\d{2}:\d{2})\Z"
)
_RFC3339 = re.compile(RFC3339_PATTERN)


def parse_rfc3339(text: str) -> datetime:
    """Parse into an aware UTC datetime; ``ValueError`` if the text is not RFC 3339."""
    match = _RFC3339.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not an RFC 3339 date-time")
    fraction = (match["fraction"] or "0")[:6].ljust(6, "0")
    offset = "+00:00" if match["offset"] in ("Z", "z") else match["offset"]
    parsed = datetime.fromisoformat(f"{match['date']}T{match['time']}.{fraction}{offset}")
    try:
        return parsed.astimezone(UTC)
    except OverflowError as exc:  # 0001-01-01T00:00:00+01:00 lies before year 1 in UTC
        raise ValueError(f"{text!r} lies outside the years 1 to 9999 in UTC") from exc


def format_rfc3339(moment: datetime) -> str:
    """UTC with millisecond precision and a ``Z``, the form every stored event carries."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def utc_now() -> datetime:
    return datetime.now(UTC)
