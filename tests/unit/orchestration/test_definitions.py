"""The code location loads, and every asset, sensor and resource in it resolves."""

from __future__ import annotations

import dagster as dg

from analytics_pipeline.settings import get_settings
from orchestration.definitions import defs


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


def test_the_lakehouse_graph_reads_raw_to_bronze_to_validated_and_quarantined_to_daily_metrics(monkeypatch):
    asset_graph = load(monkeypatch).get_repository_def().asset_graph

    def parents(name: str) -> set[str]:
        return {key.to_user_string() for key in asset_graph.get(dg.AssetKey(name)).parent_keys}

    assert parents("bronze_events") == {"raw_events"}
    assert parents("validated_events") == {"bronze_events"}
    assert parents("quarantined_events") == {"bronze_events"}
    assert parents("daily_metrics") == {"validated_events"}
    checks = {key.name for key in asset_graph.asset_check_keys}
    assert {"batch_reconciliation", "envelope_expectations", "purchase_expectations"} <= checks
    assert "matches_validated_events" in checks


def test_jobs_sensors_and_the_schedule_are_there_and_on(monkeypatch):
    repository = load(monkeypatch).get_repository_def()
    assert repository.get_job("kafka_batch_etl").executor_def.name == "in_process"
    for name in ("kafka_offsets_sensor", "batch_etl_commit_sensor", "late_events_sensor"):
        assert repository.get_sensor_def(name).default_status == dg.DefaultSensorStatus.RUNNING
    schedule = repository.get_schedule_def("daily_metrics_schedule")
    assert schedule.cron_schedule == "15 0 * * *"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING


def test_the_environment_chooses_spark_the_lake_and_the_first_day(monkeypatch):
    definitions = load(
        monkeypatch,
        ANALYTICS_SPARK_MASTER="spark://spark-master:7077",
        ANALYTICS_LAKE_DIR="s3a://lake/analytics",
        ANALYTICS_LAKE_START_DATE="2025-06-01",
        ANALYTICS_ETL_SENSOR_INTERVAL_S="45",
    )
    lakehouse = definitions.resources["lakehouse"]
    assert lakehouse.spark_master == "spark://spark-master:7077"
    assert lakehouse.tables.validated_events == "s3a://lake/analytics/validated_events"
    repository = definitions.get_repository_def()
    partitions = repository.assets_defs_by_key[dg.AssetKey("daily_metrics")].partitions_def
    assert partitions.get_first_partition_key() == "2025-06-01"
    assert repository.get_sensor_def("kafka_offsets_sensor").minimum_interval_seconds == 45


def test_hot_partition_sensor_reports_raw_events_checks_the_hourly_job_leaves_alone(monkeypatch):
    repository = load(monkeypatch, ANALYTICS_HOT_PARTITION_INTERVAL_S="15").get_repository_def()
    sensor = repository.get_sensor_def("hot_partition_sensor")
    assert (sensor.minimum_interval_seconds, sensor.default_status) == (15, dg.DefaultSensorStatus.RUNNING)
    checks = {(key.asset_key.to_user_string(), key.name) for key in repository.asset_graph.asset_check_keys}
    assert {("raw_events", "hot_partitions"), ("raw_events", "produce_skew")} <= checks
    hourly = repository.get_job("raw_events_quality").asset_layer.asset_graph.asset_check_keys
    assert {key.name for key in hourly} == {"raw_record_contract"}, "an instant look overwrites the sensor's"


def test_dead_letter_sensor_reports_raw_events_dead_letters_check(monkeypatch):
    repository = load(monkeypatch).get_repository_def()
    sensor = repository.get_sensor_def("dead_letter_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    checks = {(key.asset_key.to_user_string(), key.name) for key in repository.asset_graph.asset_check_keys}
    assert ("raw_events", "dead_letters_redriven") in checks
