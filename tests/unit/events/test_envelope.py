"""Envelope validation: one error per field, strict types, and the timestamp rules (window, skew)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from analytics_pipeline.events.envelope import (
    EVENT_ID_PATTERN,
    EVENT_TYPE_PATTERN,
    FieldError,
    TimeWindow,
    ValidEvent,
    validate_event,
)
from analytics_pipeline.timeutil import format_rfc3339

RECEIVED_AT = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
WINDOW = TimeWindow(max_future=timedelta(hours=1), max_age=timedelta(days=30))
RFC3339_HINT = "must be an RFC 3339 date-time such as 2026-11-26T12:00:00Z"


def make_event(**overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {"eventId": "evt-1", "eventType": "add_to_cart", "userId": "user-1"}
    event.update(overrides)
    return event


def at(delta: timedelta) -> str:
    return format_rfc3339(RECEIVED_AT + delta)


def validate(
    raw: Any, *, window: TimeWindow = WINDOW, batch_sent_at: datetime | None = None
) -> tuple[ValidEvent | None, list[FieldError]]:
    return validate_event(raw, received_at=RECEIVED_AT, window=window, batch_sent_at=batch_sent_at)


def accepted(raw: Any, **kwargs: Any) -> ValidEvent:
    valid, errors = validate(raw, **kwargs)
    assert errors == []
    assert valid is not None
    return valid


def only_error(raw: Any, **kwargs: Any) -> FieldError:
    valid, errors = validate(raw, **kwargs)
    assert valid is None
    assert len(errors) == 1, errors
    return errors[0]


class TestEnvelopeShape:
    def test_minimal_event_is_accepted_with_defaults(self) -> None:
        valid = accepted(make_event())
        assert valid.event.eventId == "evt-1"
        assert valid.event.properties == {}
        assert valid.event.context is None
        assert valid.timestamp == RECEIVED_AT  # no timestamp: the receive time
        assert valid.original_timestamp is None
        assert valid.sent_at is None

    def test_properties_and_context_are_kept_as_sent(self) -> None:
        properties = {"amount": 9.5, "items": [{"sku": "a"}], "nested": {"ok": True}}
        context = {"library": {"name": "sdk", "version": "1.0"}}
        valid = accepted(make_event(properties=properties, context=context))
        assert valid.event.properties == properties
        assert valid.event.context == context

    @pytest.mark.parametrize("body", [[make_event()], "event", 5, None, True])
    def test_a_body_that_is_not_an_object_is_refused_as_body(self, body: Any) -> None:
        assert only_error(body) == FieldError("body", "must be a JSON object")

    @pytest.mark.parametrize("missing", ["eventId", "eventType", "userId"])
    def test_each_missing_required_field_is_named(self, missing: str) -> None:
        event = make_event()
        del event[missing]
        assert only_error(event) == FieldError(missing, "is required")

    def test_all_missing_fields_are_reported_together(self) -> None:
        _valid, errors = validate({})
        assert errors == [
            FieldError("eventId", "is required"),
            FieldError("eventType", "is required"),
            FieldError("userId", "is required"),
        ]

    def test_unknown_fields_are_refused_by_name(self) -> None:
        _valid, errors = validate(make_event(user_id="u", extra=1))
        assert sorted(errors, key=lambda e: e.field) == [
            FieldError("extra", "is not a known field"),
            FieldError("user_id", "is not a known field"),
        ]

    def test_as_dict_gives_the_wire_shape(self) -> None:
        assert FieldError("userId", "is required").as_dict() == {"field": "userId", "message": "is required"}


class TestStrictTypes:
    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            ("eventId", 5, "must be a string"),
            ("eventType", True, "must be a string"),
            ("userId", 42, "must be a string"),
            ("userId", None, "must be a string"),
            ("timestamp", 1_764_158_400, "must be a string"),
            ("sentAt", 1_764_158_400.5, "must be a string"),
            ("properties", [], "must be a JSON object"),
            ("properties", "a=1", "must be a JSON object"),
            ("properties", None, "must be a JSON object"),
            ("context", "web", "must be a JSON object"),
        ],
    )
    def test_wrong_json_types_are_refused_not_coerced(self, field: str, value: Any, message: str) -> None:
        assert only_error(make_event(**{field: value})) == FieldError(field, message)

    def test_a_string_field_with_an_unpaired_surrogate_is_refused_by_name(self) -> None:
        # Text the Kafka record could not carry as UTF-8; free-form properties are caught later.
        error = only_error(make_event(userId="user-\ud800"))
        assert error.field == "userId"

    def test_context_may_be_null(self) -> None:
        assert accepted(make_event(context=None)).event.context is None

    def test_every_offending_field_gets_its_own_error(self) -> None:
        _valid, errors = validate(make_event(eventId=5, eventType="Bad", userId="", properties=[], zz=1))
        assert {error.field for error in errors} == {"eventId", "eventType", "userId", "properties", "zz"}
        assert len(errors) == 5


class TestFieldFormats:
    @pytest.mark.parametrize(
        "event_id", ["a", "A-b_c.d:e", "0" * 128, "550e8400-e29b-41d4-a716-446655440000"]
    )
    def test_event_ids_matching_the_pattern_are_accepted(self, event_id: str) -> None:
        assert accepted(make_event(eventId=event_id)).event.eventId == event_id

    @pytest.mark.parametrize("event_id", ["", "has space", "a/b", "é", "0" * 129, "a\n"])
    def test_event_ids_outside_the_pattern_are_refused(self, event_id: str) -> None:
        assert only_error(make_event(eventId=event_id)) == FieldError(
            "eventId", f"must match {EVENT_ID_PATTERN}"
        )

    @pytest.mark.parametrize("event_type", ["a", "add_to_cart", "page2", "a" * 64])
    def test_snake_case_event_types_are_accepted(self, event_type: str) -> None:
        assert accepted(make_event(eventType=event_type)).event.eventType == event_type

    @pytest.mark.parametrize("event_type", ["AddToCart", "add-to-cart", "2fa", "_x", "", "a" * 65])
    def test_other_event_types_are_refused_with_the_pattern(self, event_type: str) -> None:
        error = only_error(make_event(eventType=event_type))
        assert error == FieldError("eventType", f"must match {EVENT_TYPE_PATTERN}")

    def test_user_id_must_not_be_empty(self) -> None:
        assert only_error(make_event(userId="")) == FieldError("userId", "must have at least 1 character(s)")

    def test_user_id_is_limited_to_256_characters(self) -> None:
        assert accepted(make_event(userId="u" * 256)).event.userId == "u" * 256
        assert only_error(make_event(userId="u" * 257)) == FieldError(
            "userId", "must have at most 256 characters"
        )

    @pytest.mark.parametrize("field", ["timestamp", "sentAt"])
    @pytest.mark.parametrize("text", ["2026-11-26T12:00:00", "yesterday", "2026-02-30T00:00:00Z"])
    def test_timestamps_that_are_not_rfc3339_are_refused_by_field(self, field: str, text: str) -> None:
        assert only_error(make_event(**{field: text})) == FieldError(field, RFC3339_HINT)

    def test_both_bad_timestamps_are_reported(self) -> None:
        _valid, errors = validate(make_event(timestamp="nope", sentAt="never"))
        assert errors == [FieldError("timestamp", RFC3339_HINT), FieldError("sentAt", RFC3339_HINT)]

    def test_a_bad_timestamp_is_reported_beside_other_bad_fields(self) -> None:
        valid, errors = validate(make_event(eventId="bad id", userId="", timestamp="nope"))
        assert valid is None
        assert {e.field for e in errors} == {"eventId", "userId", "timestamp"}

    def test_a_timestamp_out_of_the_window_is_reported_beside_other_bad_fields(self) -> None:
        _valid, errors = validate(make_event(eventType="Bad!", timestamp=at(timedelta(days=400))))
        assert [e.field for e in errors] == ["eventType", "timestamp"]
        assert "in the future" in errors[1].message

    def test_a_timestamp_of_the_wrong_type_is_reported_once(self) -> None:
        _valid, errors = validate(make_event(eventId="bad id", timestamp=5))
        assert errors == [
            FieldError("eventId", "must match ^[A-Za-z0-9._:-]{1,128}$"),
            FieldError("timestamp", "must be a string"),
        ]


class TestTimestampWindow:
    def test_timestamp_without_sent_at_is_kept_as_sent(self) -> None:
        valid = accepted(make_event(timestamp=at(-timedelta(minutes=5))))
        assert valid.timestamp == RECEIVED_AT - timedelta(minutes=5)
        assert valid.original_timestamp is None

    def test_exactly_max_future_is_accepted(self) -> None:
        assert accepted(make_event(timestamp=at(timedelta(hours=1)))).timestamp == RECEIVED_AT + timedelta(
            hours=1
        )

    def test_one_millisecond_beyond_max_future_is_refused(self) -> None:
        error = only_error(make_event(timestamp=at(timedelta(hours=1, milliseconds=1))))
        assert error == FieldError("timestamp", "lies more than 1 hour(s) in the future")

    def test_exactly_max_age_is_accepted(self) -> None:
        assert accepted(make_event(timestamp=at(-timedelta(days=30)))).timestamp == RECEIVED_AT - timedelta(
            days=30
        )

    def test_one_millisecond_older_than_max_age_is_refused(self) -> None:
        error = only_error(make_event(timestamp=at(-timedelta(days=30, milliseconds=1))))
        assert error == FieldError("timestamp", "lies more than 30 day(s) in the past")

    def test_window_spans_that_are_not_whole_hours_are_named_in_seconds(self) -> None:
        window = TimeWindow(max_future=timedelta(seconds=90), max_age=timedelta(days=1))
        error = only_error(make_event(timestamp=at(timedelta(seconds=91))), window=window)
        assert error == FieldError("timestamp", "lies more than 90 second(s) in the future")


class TestClockSkewCorrection:
    def test_skew_between_sent_at_and_receive_time_is_added_to_the_timestamp(self) -> None:
        # The client's clock runs two hours behind: it stamped the event 5 s before sending.
        valid = accepted(
            make_event(timestamp=at(-timedelta(hours=2, seconds=5)), sentAt=at(-timedelta(hours=2)))
        )
        assert valid.timestamp == RECEIVED_AT - timedelta(seconds=5)
        assert valid.original_timestamp == RECEIVED_AT - timedelta(hours=2, seconds=5)
        assert valid.sent_at == RECEIVED_AT - timedelta(hours=2)

    def test_a_client_clock_ahead_is_corrected_backwards(self) -> None:
        valid = accepted(make_event(timestamp=at(timedelta(days=2)), sentAt=at(timedelta(days=2, seconds=1))))
        assert valid.timestamp == RECEIVED_AT - timedelta(seconds=1)

    def test_window_judges_the_corrected_timestamp(self) -> None:
        # 40 days old by the client's clock, but the clock is 40 days behind: really 1 min old.
        old_clock = make_event(timestamp=at(-timedelta(days=40, minutes=1)), sentAt=at(-timedelta(days=40)))
        assert accepted(old_clock).timestamp == RECEIVED_AT - timedelta(minutes=1)

    def test_a_timestamp_inside_the_window_can_be_corrected_out_of_it(self) -> None:
        error = only_error(make_event(timestamp=at(timedelta(0)), sentAt=at(-timedelta(hours=2))))
        assert error == FieldError("timestamp", "lies more than 1 hour(s) in the future")

    def test_sent_at_without_timestamp_leaves_the_receive_time(self) -> None:
        valid = accepted(make_event(sentAt=at(-timedelta(hours=3))))
        assert valid.timestamp == RECEIVED_AT
        assert valid.original_timestamp is None
        assert valid.sent_at == RECEIVED_AT - timedelta(hours=3)

    def test_batch_sent_at_applies_to_an_event_without_its_own(self) -> None:
        batch_sent_at = RECEIVED_AT - timedelta(minutes=10)
        valid = accepted(make_event(timestamp=at(-timedelta(minutes=11))), batch_sent_at=batch_sent_at)
        assert valid.timestamp == RECEIVED_AT - timedelta(minutes=1)
        assert valid.original_timestamp == RECEIVED_AT - timedelta(minutes=11)
        assert valid.sent_at == batch_sent_at

    def test_the_events_own_sent_at_wins_over_the_batch_sent_at(self) -> None:
        valid = accepted(
            make_event(timestamp=at(-timedelta(minutes=11)), sentAt=at(-timedelta(minutes=11))),
            batch_sent_at=RECEIVED_AT - timedelta(hours=5),
        )
        assert valid.timestamp == RECEIVED_AT
        assert valid.sent_at == RECEIVED_AT - timedelta(minutes=11)

    def test_a_correction_beyond_the_datetime_range_is_a_sent_at_error(self) -> None:
        # timestamp + (receivedAt - sentAt) falls before year 1: OverflowError inside, 400 outside.
        error = only_error(make_event(timestamp="0232-01-01T00:00:00Z", sentAt="5787-01-01T00:00:00Z"))
        assert error == FieldError("sentAt", "is too far from the timestamp to correct its skew")

    def test_a_correction_beyond_year_9999_is_a_sent_at_error(self) -> None:
        error = only_error(make_event(timestamp="9999-01-01T00:00:00Z", sentAt="0002-01-01T00:00:00Z"))
        assert error.field == "sentAt"


class TestOutOfRangeTimestamps:
    def test_a_timestamp_before_year_one_in_utc_is_a_field_error(self) -> None:
        raw = {"eventId": "a", "eventType": "x", "userId": "u", "timestamp": "0001-01-01T00:00:00+01:00"}
        valid, errors = validate_event(raw, received_at=RECEIVED_AT, window=WINDOW)
        assert valid is None
        assert [e.field for e in errors] == ["timestamp"]

    def test_an_unpaired_surrogate_in_user_id_is_named_plainly(self) -> None:
        raw = {"eventId": "a", "eventType": "x", "userId": "\ud800"}
        _valid, errors = validate_event(raw, received_at=RECEIVED_AT, window=WINDOW)
        assert [(e.field, "Unicode" in e.message) for e in errors] == [("userId", True)]
