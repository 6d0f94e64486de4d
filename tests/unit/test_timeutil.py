"""RFC 3339 parsing is strict (offset required, bounded fraction) and output has one canonical form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from analytics_pipeline.timeutil import format_rfc3339, parse_rfc3339, utc_now


class TestParseRfc3339:
    @pytest.mark.parametrize("separator", ["T", "t", " "])
    def test_accepts_each_separator_rfc3339_allows(self, separator: str) -> None:
        assert parse_rfc3339(f"2026-11-26{separator}12:34:56Z") == datetime(
            2026, 11, 26, 12, 34, 56, tzinfo=UTC
        )

    @pytest.mark.parametrize("zulu", ["Z", "z"])
    def test_accepts_upper_and_lower_case_zulu(self, zulu: str) -> None:
        assert parse_rfc3339(f"2026-11-26T12:00:00{zulu}") == datetime(2026, 11, 26, 12, tzinfo=UTC)

    @pytest.mark.parametrize(
        ("text", "expected_utc"),
        [
            ("2026-11-26T14:00:00+02:00", datetime(2026, 11, 26, 12, tzinfo=UTC)),
            ("2026-11-26T06:30:00-05:30", datetime(2026, 11, 26, 12, tzinfo=UTC)),
            ("2026-11-27T00:30:00+01:00", datetime(2026, 11, 26, 23, 30, tzinfo=UTC)),
            ("2026-11-26T12:00:00-00:00", datetime(2026, 11, 26, 12, tzinfo=UTC)),
        ],
    )
    def test_converts_offsets_to_utc(self, text: str, expected_utc: datetime) -> None:
        parsed = parse_rfc3339(text)
        assert parsed == expected_utc
        assert parsed.utcoffset() == timedelta(0)
        assert parsed.tzinfo is UTC

    @pytest.mark.parametrize(
        ("fraction", "microseconds"),
        [
            ("5", 500_000),
            ("12", 120_000),
            ("123", 123_000),
            ("123456", 123_456),
            ("1234567", 123_456),
            ("123456789", 123_456),
            ("999999999", 999_999),  # truncated, never rounded up into the next second
        ],
    )
    def test_fraction_of_up_to_nine_digits_is_truncated_to_microseconds(
        self, fraction: str, microseconds: int
    ) -> None:
        parsed = parse_rfc3339(f"2026-11-26T12:00:00.{fraction}Z")
        assert parsed.second == 0
        assert parsed.microsecond == microseconds

    @pytest.mark.parametrize(
        "text",
        [
            "2026-11-26T12:00:00",  # no offset: local time of an unknown zone
            "2026-11-26 12:00:00",
            "2026-11-26",
            "2026-11-26T12:00Z",  # seconds are mandatory
            "2026-11-26T12:00:00.Z",  # a dot needs digits
            "2026-11-26T12:00:00.1234567890Z",  # ten fraction digits
            "2026-11-26T12:00:00+0200",  # offset without colon
            "2026-11-26T12:00:00+02",
            "2026-11-26T12:00:00 Z",
            "2026-11-26X12:00:00Z",
            "26-11-26T12:00:00Z",
            "2026-1-26T12:00:00Z",
            " 2026-11-26T12:00:00Z",
            "2026-11-26T12:00:00Z ",
            "1764158400",
            "",
        ],
    )
    def test_rejects_text_that_is_not_rfc3339(self, text: str) -> None:
        with pytest.raises(ValueError, match="is not an RFC 3339 date-time"):
            parse_rfc3339(text)

    @pytest.mark.parametrize(
        "text",
        [
            "2026-02-29T00:00:00Z",  # 2026 is not a leap year
            "2026-13-01T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-00-10T00:00:00Z",
            "2026-11-26T24:00:00Z",
            "2026-11-26T12:60:00Z",
            "2026-11-26T12:00:00+24:00",
            "0000-01-01T00:00:00Z",
        ],
    )
    def test_rejects_well_formed_text_naming_an_impossible_moment(self, text: str) -> None:
        with pytest.raises(ValueError):  # noqa: PT011 - the message comes from datetime itself
            parse_rfc3339(text)

    def test_accepts_a_real_leap_day(self) -> None:
        assert parse_rfc3339("2028-02-29T00:00:00Z") == datetime(2028, 2, 29, tzinfo=UTC)


class TestFormatRfc3339:
    def test_utc_with_milliseconds_and_z(self) -> None:
        assert format_rfc3339(datetime(2026, 11, 26, 12, 0, tzinfo=UTC)) == "2026-11-26T12:00:00.000Z"

    def test_converts_other_offsets_to_utc(self) -> None:
        moment = datetime(2026, 11, 26, 14, 30, 1, 250_000, tzinfo=timezone(timedelta(hours=2)))
        assert format_rfc3339(moment) == "2026-11-26T12:30:01.250Z"

    def test_truncates_microseconds_to_milliseconds(self) -> None:
        assert format_rfc3339(datetime(2026, 11, 26, 12, 0, 0, 123_999, tzinfo=UTC)) == (
            "2026-11-26T12:00:00.123Z"
        )

    def test_output_parses_back_to_the_same_millisecond(self) -> None:
        moment = datetime(2026, 1, 2, 3, 4, 5, 678_000, tzinfo=timezone(timedelta(hours=-7)))
        assert parse_rfc3339(format_rfc3339(moment)) == moment

    def test_utc_now_is_aware_utc(self) -> None:
        now = utc_now()
        assert now.utcoffset() == timedelta(0)
        assert format_rfc3339(now).endswith("Z")


class TestRegressions:
    @pytest.mark.parametrize("text", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
    def test_a_date_outside_utc_years_is_a_value_error(self, text: str) -> None:
        with pytest.raises(ValueError, match="outside the years"):
            parse_rfc3339(text)

    def test_a_trailing_newline_is_not_rfc3339(self) -> None:
        with pytest.raises(ValueError, match="RFC 3339"):
            parse_rfc3339("2026-11-26T12:00:00Z\n")
