"""The one place where the environment (ANALYTICS_* settings) becomes bound resources."""

from __future__ import annotations

import os
from typing import Any

import dagster as dg

from analytics_pipeline.objectstore.endpoint import s3_endpoint
from analytics_pipeline.operations.status import pipeline_groups
from analytics_pipeline.settings import Settings
from resources.kafka import DeadLetterResource, HotPartitionResource, KafkaResource
from resources.lakehouse import LakehouseResource, MetadataResource, QualityResource
from resources.object_storage import ObjectStorageResource
from resources.policies import ArchivePolicyResource, BatchPolicyResource
from resources.realtime import RealtimeResource


def build_resources(settings: Settings) -> dict[str, dg.ConfigurableResource]:
    """The one place where the environment (ANALYTICS_* settings) becomes resources."""
    storage = object_storage(settings)
    kafka = KafkaResource(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        etl_group=settings.etl_group,
        archive_group=settings.archive_group,
    )
    return {
        "kafka": kafka,
        "hot_partitions": HotPartitionResource(
            kafka=kafka,
            groups=pipeline_groups(settings),
            factor=settings.hot_partition_factor,
            sustain_s=settings.hot_partition_sustain_s,
            min_records=settings.hot_partition_min_records,
        ),
        "archive_policy": ArchivePolicyResource(
            batch_size=settings.archive_batch_size,
            max_wait_s=settings.archive_max_wait_s,
            max_records_per_run=settings.archive_max_records_per_run,
            max_lag_s=settings.archive_max_lag_s,
        ),
        "batch_policy": BatchPolicyResource(
            batch_size=settings.etl_batch_size,
            max_wait_s=settings.etl_max_wait_s,
            max_records_per_run=settings.etl_max_records_per_run,
        ),
        "lakehouse": LakehouseResource(
            lake_root=settings.lake_root,
            spark_master=settings.spark_master,
            spark_driver_memory=settings.spark_driver_memory,
            spark_connect_url=settings.spark_connect_url,
            spark_server_memory=settings.spark_server_memory,
            stack_home=str(settings.home.resolve()),
            java_home=str(settings.java_home) if settings.java_home else None,
            jar_root=str(settings.jar_root),
            s3=storage,
            dedup_window_s=settings.lake_dedup_window_s,
            judge_in_jvm=settings.lake_judge_in_jvm,
        ),
        "metadata": MetadataResource(url=settings.metadata_database_url),
        "dead_letters": DeadLetterResource(kafka=kafka, metadata_url=settings.metadata_database_url),
        "realtime": RealtimeResource(
            redis_url=settings.redis_url,
            stream_group=settings.stream_group,
            metric_ttl_windows=settings.metric_ttl_windows,
        ),
        "quality": QualityResource(
            max_event_age_s=settings.max_event_age_s, max_future_skew_s=settings.max_future_skew_s
        ),
        "s3": storage,
    }


def object_storage(settings: Settings) -> ObjectStorageResource:
    """A secret given in the environment reaches the resource as an EnvVar, so the Dagster UI
    shows the variable's name and not its value."""
    endpoint = s3_endpoint(settings)
    return ObjectStorageResource(
        endpoint_url=endpoint.url,
        region_name=endpoint.region,
        aws_access_key_id=endpoint.access_key,
        aws_secret_access_key=_from_environment(
            endpoint.secret_key, "ANALYTICS_S3_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"
        ),
        aws_session_token=_from_environment(endpoint.session_token, "AWS_SESSION_TOKEN"),
        archive_bucket=settings.archive_bucket,
    )


def _from_environment(value: str | None, *variables: str) -> Any:
    """The variable that holds ``value`` as an EnvVar, else the value itself."""
    for variable in variables:
        if value is not None and os.environ.get(variable) == value:
            return dg.EnvVar(variable)
    return value
