"""The code location loads, and every asset, sensor and resource in it resolves."""

from __future__ import annotations

import dagster as dg

from analytics_pipeline.settings import get_settings
from orchestration.definitions import defs
from sensors.kafka_offsets import offsets_growth


def load(monkeypatch, **env: str) -> dg.Definitions:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        return defs()
    finally:
        get_settings.cache_clear()


def test_the_code_location_loads_and_resolves(monkeypatch):
    definitions = load(monkeypatch)
    dg.Definitions.validate_loadable(definitions)
    repository = definitions.get_repository_def()
    assert dg.AssetKey("raw_events") in repository.asset_graph.get_all_asset_keys()
    sensor = repository.get_sensor_def("kafka_offsets_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING


def test_the_realtime_aggregates_are_an_external_asset_downstream_of_the_raw_events(monkeypatch):
    asset_graph = load(monkeypatch).get_repository_def().asset_graph
    realtime = dg.AssetKey("realtime_metrics")
    assert realtime in asset_graph.get_all_asset_keys()
    assert asset_graph.get(realtime).parent_keys == {dg.AssetKey("raw_events")}
    assert realtime in asset_graph.get(dg.AssetKey("raw_events")).child_keys
    assert not asset_graph.get(realtime).is_materializable, "external: the streaming worker reports it"
    assert asset_graph.get(realtime).group_name == "streams"


def test_the_environment_chooses_the_kafka_cluster(monkeypatch):
    definitions = load(monkeypatch, ANALYTICS_KAFKA_BOOTSTRAP_SERVERS="kafka-1.internal:9092")
    assert definitions.resources["kafka"].bootstrap_servers == "kafka-1.internal:9092"


class TestOffsetsGrowth:
    def test_counts_only_topics_that_grew(self):
        assert offsets_growth({"events.a": 10, "events.b": 5}, {"events.a": 12, "events.b": 5}) == {
            "events.a": 2
        }

    def test_a_new_topic_counts_from_zero(self):
        assert offsets_growth({}, {"events.new": 7}) == {"events.new": 7}

    def test_a_recreated_topic_counts_its_new_end(self):
        assert offsets_growth({"events.a": 100}, {"events.a": 3}) == {"events.a": 3}
