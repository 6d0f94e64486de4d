"""Judging in the JVM gives the verdict the Python judge gives (the contract of raw_record.py and
the schemas of property_schema.py, which the ingestion service also validates by), with the same
first reason and the same fields, on a fuzzed corpus: hypothesis writes records as the ingestion
service would, then breaks them in the ways a producer can. And the JVM does the work: every
record the ingestion service writes is decided there, but for those whose schema uses a keyword
only Python reads."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyspark.sql import DataFrame, SparkSession

from analytics_pipeline.events.quality_rules import QualityRules
from analytics_pipeline.lakehouse.batch_etl import parse_records
from analytics_pipeline.lakehouse.judge_in_jvm import CERTAIN, with_jvm_verdict
from analytics_pipeline.lakehouse.parse import SchemaBook, judge
from analytics_pipeline.lakehouse.tables import JUDGMENT_SCHEMA
from analytics_pipeline.metadata.store import StoredSchema
from analytics_pipeline.timeutil import format_rfc3339
from tests.support.lake_load import PURCHASE_SCHEMA
from tests.support.raw_events import raw_record

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]

PROJECT = "shop"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
RULES = QualityRules.of(max_event_age_s=7 * 86_400, max_future_skew_s=300)
SIGNUP_V1 = {
    "type": "object",
    "required": ["plan"],
    "properties": {
        "plan": {"enum": ["free", "pro", 3, True, None]},
        "code": {"type": "string", "pattern": "^[A-Z]{2}-[0-9]+$", "minLength": 4, "maxLength": 12},
        "seats": {"type": "integer", "minimum": 1, "exclusiveMaximum": 1000},
        "ratio": {"type": ["number", "null"], "maximum": 1.5, "exclusiveMinimum": -0.5},
        "referrer": {"type": "object", "required": ["id"], "properties": {"id": {"const": "abc"}}},
        "odd name.x": {"type": "boolean"},
    },
    "additionalProperties": False,
}
SIGNUP_V2 = {**SIGNUP_V1, "required": ["plan", "seats"], "additionalProperties": True}
FORMATTED = {"type": "object", "properties": {"email": {"type": "string", "format": "email"}}}  # Python
SCHEMAS = [
    StoredSchema(PROJECT, "purchase", 1, PURCHASE_SCHEMA),
    StoredSchema(PROJECT, "signup", 1, SIGNUP_V1),
    StoredSchema(PROJECT, "signup", 2, SIGNUP_V2),
    StoredSchema(PROJECT, "invite", 1, FORMATTED),
]
TYPES = ("purchase", "signup", "invite", "page_view")
ABSENT = object()

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([2**53 - 1, 2**53, 2**53 + 1, 10**400, 1e-5, 1e16, 12345678.9, -0.0])
    | st.text(max_size=8)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["id", "x", "é"]), inner, max_size=3)
    ),
    max_leaves=6,
)


def mostly(good: st.SearchStrategy, bad: st.SearchStrategy) -> st.SearchStrategy:
    """Three in four draws from ``good``: most records keep a rule, the rest break it."""
    return st.one_of(good, good, good, bad)


SIGNUP_PROPERTIES = st.fixed_dictionaries(
    {
        "plan": mostly(
            st.sampled_from(["free", "pro", 3, 3.0, True, None]), st.sampled_from(["Pro", 1, False, []])
        )
    },
    optional={
        "code": mostly(
            st.from_regex(r"[A-Z]{2}-[0-9]{1,9}", fullmatch=True),
            st.sampled_from(["ab-12", "AB-1\n", "AB-1\r", "ÄB-12", "AB-", "AB-1234567890", 12]),
        ),
        "seats": mostly(st.integers(1, 999), st.sampled_from([0, 1000, 5.5, 2**53 + 1, "3", True])),
        "ratio": mostly(
            st.floats(-0.49, 1.5) | st.none() | st.sampled_from([1.0, 1]),
            st.sampled_from([-0.5, 1.5000001, 2, float("inf"), "0.5"]),
        ),
        "referrer": mostly(st.just({"id": "abc"}), st.sampled_from([{}, {"id": "abd"}, {"id": None}, "abc"])),
        "odd name.x": mostly(st.booleans(), st.sampled_from([0, "true"])),
        "extra": st.just(1),  # v1 has no additional properties, v2 any
    },
)
PURCHASE_FIELDS = {
    "amount": mostly(
        st.integers(0, 10**7) | st.floats(0, 1e7) | st.sampled_from([0.1, 19.99, 1e-5, 2**60]),
        st.sampled_from([-1, -0.01, "10", True, None, float("inf"), 10**400]),
    ),
    "currency": mostly(st.sampled_from(["USD", "EUR", "GBP"]), st.sampled_from(["XXX", "usd", 5, None])),
}
PURCHASE_PROPERTIES = mostly(
    st.fixed_dictionaries(PURCHASE_FIELDS), st.fixed_dictionaries({}, optional=PURCHASE_FIELDS)
)
PROPERTIES = {
    "signup": SIGNUP_PROPERTIES,
    "purchase": PURCHASE_PROPERTIES,
    "invite": st.fixed_dictionaries({"email": st.text(max_size=6)}),
    "page_view": st.dictionaries(st.sampled_from(["path", "é", "amount", "x"]), json_values, max_size=4),
}
BREAKABLE = (
    "eventId", "key", "eventType", "userId", "timestamp", "receivedAt", "properties", "projectId",
    "topic", "schemaVersion", "context", "text", "missing",
)  # fmt: skip
GOOD_TEXT = ("compact", "compact", "compact", "compact", "ascii", "spaced", "leading", "bom", "nan")
BAD_TEXT = ("duplicate", "trailing", "two", "cut")


def rfc3339(moment: datetime, offset_minutes: int, fraction: str, separator: str, zone: str) -> str:
    local = moment + timedelta(minutes=offset_minutes)
    if not zone:
        sign, minutes = ("+" if offset_minutes >= 0 else "-"), abs(offset_minutes)
        zone = f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
    return f"{local:%Y-%m-%d}{separator}{local:%H:%M:%S}{fraction}{zone}"


@st.composite
def instants(draw: st.DrawFn, moment: datetime) -> str:
    """``moment`` in any RFC 3339 form (its fraction cut to what the form holds)."""
    offset_minutes = draw(st.sampled_from([0, 0, 60, -330, 18 * 60, -(18 * 60), 19 * 60, 23 * 60 + 59]))
    fraction = draw(st.sampled_from(["", ".5", ".123", ".123456", ".1234567", ".123456789"]))
    zone = draw(st.sampled_from(["Z", "z", "+00:00", "-00:00"])) if offset_minutes == 0 else ""
    return rfc3339(moment, offset_minutes, fraction, draw(st.sampled_from(["T", "T", "t", " "])), zone)


BAD_INSTANTS = st.sampled_from(
    ["2026-02-30T00:00:00Z", "2026-06-01T24:00:00Z", "2026-06-01T23:59:60Z", "0000-06-01T00:00:00Z",
     "２０２６-06-01T00:00:00Z", "2026-06-01T00:00:00", "2026/06/01T00:00:00Z", "9999-12-31T23:59:59-01:00",
     "2026-06-01T00:00:00+24:00", 1780000000]
)  # fmt: skip


@st.composite
def records(draw: st.DrawFn) -> tuple[str, bytes | None, bytes | None]:
    """A record as the ingestion service writes it, with none, one or two of its rules broken."""
    broken = draw(st.just(frozenset()) | st.frozensets(st.sampled_from(BREAKABLE), min_size=1, max_size=2))

    def pick(name: str, good: st.SearchStrategy, bad: st.SearchStrategy) -> Any:
        return draw(bad if name in broken else good)

    event_id = draw(st.from_regex(r"[A-Za-z0-9._:-]{1,20}", fullmatch=True) | st.just("x" * 128))
    event_type = draw(st.sampled_from(TYPES))
    received = NOW - timedelta(
        seconds=draw(st.integers(0, 86_400)), microseconds=draw(st.integers(0, 999_999))
    )
    happened = received + timedelta(
        seconds=draw(st.integers(-6 * 86_400, 299)), microseconds=draw(st.integers(0, 999_999))
    )
    late = received - timedelta(days=8)  # outside the window: a quality rule, not the contract
    value: dict[str, Any] = {
        "eventId": pick("eventId", st.just(event_id), st.sampled_from(["", "x" * 129, "a b", "é", 7])),
        "eventType": pick("eventType", st.just(event_type), st.sampled_from(["Bad", "", "a" * 65, 3])),
        "userId": pick("userId", st.sampled_from(["u1", "ü", "  ", "a\nb"]), st.sampled_from(["", 5, None])),
        "timestamp": pick("timestamp", instants(happened), BAD_INSTANTS | instants(late)),
        "properties": pick("properties", PROPERTIES[event_type], st.sampled_from([[], "x", None, 1])),
        "projectId": pick("projectId", st.just(PROJECT), st.sampled_from(["other", "Shop", 1, None])),
        "receivedAt": pick("receivedAt", instants(received), BAD_INSTANTS),
    }
    registered = {"purchase": [1], "signup": [1, 2], "invite": [1]}.get(event_type, [ABSENT])
    version = pick(
        "schemaVersion",
        st.sampled_from(registered),
        st.sampled_from([0, -1, "1", 1.0, True, 99, 2**40, None]),
    )
    if version is not ABSENT:
        value["schemaVersion"] = version
    context = pick(
        "context", st.sampled_from([ABSENT, None, {"ip": "1.2.3.4"}, [1, "x"]]), st.sampled_from(["text", 4])
    )
    if context is not ABSENT:
        value["context"] = context
    if "missing" in broken:
        value.pop(draw(st.sampled_from(sorted(value))))
    text = pick("text", st.sampled_from(GOOD_TEXT), st.sampled_from(BAD_TEXT))
    key = pick("key", st.just(event_id.encode()), st.sampled_from([b"other", None, b"\xff\xfe"]))
    topic = pick(
        "topic",
        st.just(f"events.{PROJECT}"),
        st.sampled_from(["events.Shop", "other.shop", f"events.{PROJECT}\n"]),
    )
    return topic, key, _written(value, text)


def _written(value: dict[str, Any], how: str) -> bytes:
    compact = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    texts = {
        "compact": compact,
        "ascii": json.dumps(value, separators=(",", ":")),
        "spaced": json.dumps(value, ensure_ascii=False),
        "duplicate": compact[:-1] + ',"eventId":"dup"}',
        "trailing": compact + " x",
        "two": compact + compact,
        "leading": " " + compact,
        "bom": "\ufeff" + compact,
        "cut": compact[: len(compact) // 2],
        "nan": compact[:-1] + ',"n":NaN}',
    }
    try:
        return texts[how].encode()
    except UnicodeEncodeError:  # a lone surrogate: what a careless producer writes
        return texts[how].encode("utf-8", "surrogatepass")


def source_frame(spark: SparkSession, corpus: list[tuple[str, bytes | None, bytes | None]]) -> DataFrame:
    rows = [
        (topic, 0, offset, key, value, NOW, "batch", NOW) for offset, (topic, key, value) in enumerate(corpus)
    ]
    schema = (
        "topic string, partition int, offset long, key binary, value binary, kafkaTimestamp timestamp, "
        "batchId string, ingestedAt timestamp"
    )
    frame = spark.createDataFrame(rows, schema)
    return frame.withColumnRenamed("kafkaTimestamp", "timestamp")


def python_verdicts(corpus: list[tuple[str, bytes | None, bytes | None]]) -> list[tuple]:
    book = SchemaBook.of(SCHEMAS)
    return [judge(topic, key, value, book, RULES) for topic, key, value in corpus]


def assert_same(spark: SparkSession, corpus: list[tuple[str, bytes | None, bytes | None]]) -> None:
    """Every record judged alike."""
    jvm = parse_records(source_frame(spark, corpus), SCHEMAS, RULES, judge_in_jvm=True)
    jvm = jvm.orderBy("offset").collect()
    for (topic, key, value), expected, row in zip(corpus, python_verdicts(corpus), jvm, strict=True):
        record = {"topic": topic, "key": key, "value": value}
        assert row.valid == expected[0], record
        if not expected[0]:
            assert (row.problems[0], row.stage) == (expected[1][0], expected[2]), record
            continue
        assert row.projectId == expected[3], record
        assert row.eventDate == date(1970, 1, 1) + timedelta(days=expected[4]), record
        assert _micros(row.receivedAt) == expected[5], record
        assert (row.eventId, row.eventType, row.userId) == tuple(expected[6:9]), record
        assert _micros(row.timestamp) == expected[9], record
        assert json.loads(row.properties) == json.loads(expected[10]), record
        assert (row.context and json.loads(row.context)) == (expected[11] and json.loads(expected[11])), (
            record
        )
        assert row.schemaVersion == expected[12], record


def decided_in_jvm(spark: SparkSession, corpus: list[tuple[str, bytes | None, bytes | None]]) -> int:
    return with_jvm_verdict(source_frame(spark, corpus), SCHEMAS, RULES).where(CERTAIN).count()


def _micros(moment: datetime) -> int:
    return (moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(corpus=st.lists(records(), min_size=150, max_size=250))
def test_the_jvm_and_python_give_the_same_verdict_reason_and_fields(spark: SparkSession, corpus):
    assert_same(spark, corpus)


def test_every_record_the_ingestion_service_writes_is_decided_in_the_jvm(spark: SparkSession):
    corpus = []
    for n in range(300):
        event_type = TYPES[n % len(TYPES)]
        props = {
            "purchase": {"amount": n * 1.25, "currency": "EUR"},
            "signup": {
                "plan": "pro",
                "code": f"AB-{n}",
                "seats": n % 999 + 1,
                "ratio": None,
                "odd name.x": True,
            },
            "invite": {"email": "a@b.c"},  # judged by a schema with a keyword the JVM leaves to Python
            "page_view": {"path": f"/p/{n}", "title": "Grüße"},
        }[event_type]
        event = {
            "eventId": f"ev-{n}",
            "eventType": event_type,
            "userId": f"user-{n % 7}",
            "timestamp": format_rfc3339(NOW - timedelta(minutes=n)),
            "properties": props,
            "context": {"ip": "10.0.0.1"} if n % 2 else None,
        }
        version = {"purchase": 1, "signup": 1 + n % 2, "invite": 1}.get(event_type)
        key, value = raw_record(PROJECT, {k: v for k, v in event.items() if v is not None}, NOW, version)
        corpus.append((f"events.{PROJECT}", key, value))
    assert_same(spark, corpus)
    decided = decided_in_jvm(spark, corpus)
    assert all(v[0] for v in python_verdicts(corpus)), "every record of this corpus is valid"
    invites = sum(TYPES[n % len(TYPES)] == "invite" for n in range(300))
    assert decided == len(corpus) - invites, "all but the records whose schema only Python reads"


def test_judgment_schema_is_what_both_judges_give(spark: SparkSession):
    frame = source_frame(spark, [("events.shop", b"k", b"{}")])
    for judge_in_jvm in (False, True):
        parsed = parse_records(frame, SCHEMAS, RULES, judge_in_jvm=judge_in_jvm)
        names = [f.name for f in parsed.schema.fields]
        assert names[-len(JUDGMENT_SCHEMA.fields) :] == JUDGMENT_SCHEMA.fieldNames()
