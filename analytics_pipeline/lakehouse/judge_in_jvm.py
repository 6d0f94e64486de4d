"""Raw records judged in the JVM: the contract of ``events.raw_record``, the property schema each
was accepted under (``schema_sql``) and the row-level quality rules, as Spark SQL.

The JVM decides only the records it proves valid, which on a healthy pipeline is nearly all of
them; the verdict on every other record (a broken one, or one beyond what these expressions
prove, such as a value Python and Jackson write differently) comes from the Python judge in
``parse``, which also names what is wrong. So the JVM adds speed and never a verdict of its own:
a record it passes, Python would pass with the same fields.

What "proved" takes, beyond each rule of the contract:
- the value is UTF-8 and exactly the compact JSON Jackson writes for it (so the whole value was
  read, as Python reads it), with no escaped UTF-16 surrogate;
- times between the years 1000 and 9998, parsed by Spark where Python's grammar matches;
- a schema version present and registered, whose schema compiles (``schema_sql``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from analytics_pipeline.events.envelope import EVENT_ID_PATTERN, EVENT_TYPE_PATTERN
from analytics_pipeline.events.quality_rules import PURCHASE, QualityRules
from analytics_pipeline.events.raw_record import SCHEMA_VERSION_FIELD
from analytics_pipeline.kafka_io.topics import RAW_TOPIC_PATTERN
from analytics_pipeline.lakehouse.parse import micros
from analytics_pipeline.lakehouse.schema_sql import Node, Places, schema_predicate
from analytics_pipeline.metadata.store import StoredSchema
from analytics_pipeline.timeutil import RFC3339_PATTERN

_MICROSECOND = timedelta(microseconds=1)
_EARLIEST = datetime(1000, 1, 1, tzinfo=UTC)  # a margin inside Python's years 1 to 9999 in UTC
_LATEST = datetime(9998, 12, 31, tzinfo=UTC)
_MAX_INT = 2**31 - 1  # schemaVersion is an IntegerType column
_SURROGATE_ESCAPE = r"\\u[dD][89abAB]"
_TIMESTAMP_FORMAT = "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX"


def java_regex(python_pattern: str) -> str:
    """A Python pattern of this package as java.util.regex reads it: anchored to the whole text
    (Java's ``$`` also matches before a final line break), its named groups plain ones (Java
    names allow no underscore), counted alike. Java's ``\\d`` is ASCII only: stricter."""
    pattern = re.sub(r"\(\?P<\w+>", "(", python_pattern).replace(r"\Z", r"\z")
    if pattern.startswith("^"):
        pattern = r"\A" + pattern[1:]
    if pattern.endswith("$"):
        pattern = pattern[:-1] + r"\z"
    return pattern


CERTAIN, DECIDED = "_certain", "_jvm"  # the columns with_jvm_verdict adds


def with_jvm_verdict(
    frame: DataFrame, schemas: Iterable[StoredSchema], rules: QualityRules, *, newest_schemas: bool = False
) -> DataFrame:
    """``frame`` (Kafka records: topic, key, value) with two columns more: ``_certain``, true
    where the JVM proved the record valid (never NULL), and ``_jvm``, JUDGMENT_SCHEMA's fields of
    such a record (NULL elsewhere). Each place read in a record is parsed once, in a column of its
    own, so the plan stays small whatever the schemas."""
    places = Places("_record")
    field = {name: places.node(f"$.{name}") for name in _TOP_LEVEL}
    topic, key, text = F.col("topic"), F.col("key"), F.col("_text")
    project, event_type = F.col("_project"), field["eventType"].text
    event_time, received_at = F.col("_event_time"), F.col("_received_at")
    version = F.try_variant_get(field[SCHEMA_VERSION_FIELD].value, "$", "int")
    schema_version, conforms = _schema_check(schemas, places, project, event_type, version, newest_schemas)
    context = field["context"]
    certain = (
        topic.rlike(java_regex(RAW_TOPIC_PATTERN))
        & F.is_valid_utf8(text)
        & text.startswith("{")
        & (F.get_json_object(text, "$") == text)
        & ~text.rlike(_SURROGATE_ESCAPE)
        & F.col("_record").isNotNull()
        & _contract(field, key, project, version)
        & event_time.isNotNull()
        & received_at.isNotNull()
        & (~context.present | (context.kind == "VOID") | _is_json_text(context))
        & conforms
        & _rules_hold(rules, places, event_type, event_time, received_at)
    )
    judgment = F.struct(
        F.lit(True).alias("valid"),
        F.array().cast("array<string>").alias("problems"),
        F.lit(None).cast("string").alias("stage"),
        project.alias("projectId"),
        F.date_from_unix_date(F.floor(F.unix_seconds(event_time) / 86_400).cast("int")).alias("eventDate"),
        received_at.alias("receivedAt"),
        field["eventId"].text.alias("eventId"),
        event_type.alias("eventType"),
        field["userId"].text.alias("userId"),
        event_time.alias("timestamp"),
        F.get_json_object(text, "$.properties").alias("properties"),
        F.when(_is_json_text(context), F.get_json_object(text, "$.context")).cast("string").alias("context"),
        schema_version.alias("schemaVersion"),
    )
    staged = (
        frame.select(
            "*",
            F.col("value").cast("string").alias("_text"),
            F.regexp_extract(topic, java_regex(RAW_TOPIC_PATTERN), 1).alias("_project"),
        )
        .select("*", F.try_parse_json("_text").alias("_record"))
        .select("*", *places.values())
        .select("*", *places.kinds())
        .select(
            "*",
            _instant(field["timestamp"]).alias("_event_time"),
            _instant(field["receivedAt"]).alias("_received_at"),
        )
        .select("*", F.coalesce(certain, F.lit(False)).alias(CERTAIN))
        .select("*", F.when(F.col(CERTAIN), judgment).alias(DECIDED))
    )
    return staged.drop("_text", "_project", "_record", "_event_time", "_received_at", *places.names())


_TOP_LEVEL = (
    "eventId", "eventType", "userId", "timestamp", "receivedAt", "properties", "projectId", "context",
    SCHEMA_VERSION_FIELD,
)  # fmt: skip


def _is_json_text(node: Node) -> Column:
    """An object or an array: what ``get_json_object`` gives back as JSON text (a string it
    gives back unquoted)."""
    return node.is_object | node.kind.startswith("ARRAY")


def _contract(field: dict[str, Node], key: Column, project: Column, version: Column) -> Column:
    """``parse_raw_record``'s rules, each proved: every required field present with its type."""
    key_text = key.cast("string")
    stated_version = field[SCHEMA_VERSION_FIELD]
    return (
        field["eventId"].is_string
        & field["eventId"].text.rlike(java_regex(EVENT_ID_PATTERN))
        & key.isNotNull()
        & F.is_valid_utf8(key_text)
        & (key_text == field["eventId"].text)
        & field["eventType"].is_string
        & field["eventType"].text.rlike(java_regex(EVENT_TYPE_PATTERN))
        & field["userId"].is_string
        & (F.char_length(field["userId"].text) > 0)
        & field["properties"].is_object
        & field["projectId"].is_string
        & (field["projectId"].text == project)
        & field["timestamp"].is_string
        & field["receivedAt"].is_string
        # absent, or a JSON integer (1.0 is a float to Python) from 1 up
        & (~stated_version.present | ((stated_version.kind == "BIGINT") & version.between(1, _MAX_INT)))
    )


def _instant(node: Node) -> Column:
    """The RFC 3339 text as Python's ``parse_rfc3339`` reads it (fraction cut to microseconds),
    or NULL where Spark cannot prove the same reading."""
    text = node.text
    pattern = java_regex(RFC3339_PATTERN)
    fraction = F.regexp_extract(text, pattern, 3)
    offset = F.regexp_extract(text, pattern, 4)
    canonical = F.concat(
        F.regexp_extract(text, pattern, 1),
        F.lit("T"),
        F.regexp_extract(text, pattern, 2),
        F.lit("."),
        F.rpad(F.substring(F.when(fraction == "", F.lit("0")).otherwise(fraction), 1, 6), 6, "0"),
        F.when(offset.isin("Z", "z"), F.lit("+00:00")).otherwise(offset),
    )
    moment = F.try_to_timestamp(canonical, F.lit(_TIMESTAMP_FORMAT))
    in_years = F.unix_micros(moment).between(micros(_EARLIEST), micros(_LATEST))
    return F.when(node.is_string & text.rlike(pattern) & in_years, moment)


def _schema_check(  # noqa: PLR0917 - the places and the columns that pick a record's schema
    schemas: Iterable[StoredSchema],
    places: Places,
    project: Column,
    event_type: Column,
    version: Column,
    newest: bool,
) -> tuple[Column, Column]:
    """(the schema version judged by, whether the properties certainly conform to it). A version
    not registered, or a schema that does not compile, is not proved."""
    stored = sorted(schemas, key=lambda s: (s.project_id, s.event_type, s.version))
    if newest:
        latest = {(s.project_id, s.event_type): s for s in stored}  # sorted: the highest stays
        picks = [((project == s.project_id) & (event_type == s.event_type), s) for s in latest.values()]
        unpicked = F.lit(True)  # no schema for its type: nothing to conform to
    else:
        picks = [
            ((project == s.project_id) & (event_type == s.event_type) & (version == s.version), s)
            for s in stored
        ]
        unpicked = version.isNull()  # a version that names no registered schema: not proved
    if not picks:
        return F.lit(None).cast("int"), unpicked
    judged_by, conforms = F, F  # one flat CASE each, branch by branch
    for condition, schema in picks:
        predicate = schema_predicate(schema.json_schema, places)
        judged_by = judged_by.when(condition, F.lit(schema.version))
        conforms = conforms.when(condition, predicate if predicate is not None else F.lit(False))
    return judged_by.cast("int"), conforms.otherwise(unpicked)


def _rules_hold(
    rules: QualityRules, places: Places, event_type: Column, event_time: Column, received_at: Column
) -> Column:
    """``QualityRules.broken`` finds nothing: the time window, and a purchase's amount and currency."""
    offset = F.unix_micros(event_time) - F.unix_micros(received_at)
    in_window = (offset <= rules.max_future // _MICROSECOND) & (-offset <= rules.max_age // _MICROSECOND)
    amount, currency = places.node("$.properties['amount']"), places.node("$.properties['currency']")
    purchase_holds = (
        amount.is_number
        & (F.abs(amount.number) < F.lit(float("inf")))
        & (amount.number >= 0)
        & currency.is_string
        & currency.text.isin(sorted(rules.currencies))
    )
    return in_window & ((event_type != PURCHASE) | purchase_holds)
