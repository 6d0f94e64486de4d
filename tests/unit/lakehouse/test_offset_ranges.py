"""Offset ranges: planned from committed and end offsets, named deterministically, carried in run config."""

from __future__ import annotations

import json

from analytics_pipeline.lakehouse.offset_ranges import (
    OffsetRange,
    kafka_source_options,
    pending_ranges,
    ranges_from_config,
    ranges_to_config,
    run_key,
)

ENDS = {("events.a", 0): 10, ("events.a", 1): 7, ("events.b", 0): 3}


def test_pending_ranges_start_at_the_committed_offset_or_zero():
    committed = {("events.a", 0): 4, ("events.a", 1): 7}
    assert pending_ranges(committed, ENDS) == [
        OffsetRange("events.a", 0, 4, 10),
        OffsetRange("events.b", 0, 0, 3),
    ]
    assert pending_ranges(dict(ENDS), ENDS) == [], "nothing past the commits: nothing to do"


def test_the_run_key_names_the_ranges_whatever_their_order():
    ranges = pending_ranges({}, ENDS)
    assert run_key(ranges) == run_key(list(reversed(ranges)))
    assert run_key(ranges) != run_key(ranges[:-1])
    assert run_key([OffsetRange("events.a", 0, 0, 10)]) != run_key([OffsetRange("events.a", 0, 0, 11)])
    assert run_key(ranges).startswith("kafka-")


def test_ranges_survive_the_run_config():
    ranges = pending_ranges({}, ENDS)
    config = json.loads(json.dumps(ranges_to_config(ranges)))
    assert ranges_from_config(config) == ranges


def test_kafka_source_options_assign_and_bound_exactly_the_ranges():
    options = kafka_source_options(pending_ranges({("events.a", 1): 2}, ENDS))
    assert json.loads(options["assign"]) == {"events.a": [0, 1], "events.b": [0]}
    assert json.loads(options["startingOffsets"]) == {"events.a": {"0": 0, "1": 2}, "events.b": {"0": 0}}
    assert json.loads(options["endingOffsets"]) == {"events.a": {"0": 10, "1": 7}, "events.b": {"0": 3}}
