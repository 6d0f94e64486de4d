"""The local stack as a whole, in dependency order: Redis, Kafka (one node or three), the S3
server, the APIs, the streaming worker, the metadata indexer, the metrics exporter, the Spark
Connect server the lake runs share (unless ANALYTICS_SPARK_CONNECT_URL is empty), then Dagster's
webserver and daemon."""

from __future__ import annotations

from dataclasses import dataclass

from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.api_servers import IngestServer, QueryServer
from analytics_pipeline.stack.dagster_services import DagsterDaemon, DagsterWebserver
from analytics_pipeline.stack.exporter import ExporterProcess
from analytics_pipeline.stack.kafka_broker import KafkaCluster
from analytics_pipeline.stack.metadata_indexer import MetadataIndexerProcess
from analytics_pipeline.stack.redis_server import RedisServer
from analytics_pipeline.stack.s3_server import S3Server
from analytics_pipeline.stack.services import (
    Ownership,
    ServiceStatus,
    StackService,
    ensure_running_together,
    stop_together,
)
from analytics_pipeline.stack.spark_server import SparkConnectServer, SparkServerSpec
from analytics_pipeline.stack.spark_warm_up import SparkWarmUp
from analytics_pipeline.stack.stream_worker import StreamWorkerProcess


def start_steps(settings: Settings) -> list[list[StackService]]:
    """The services in dependency order; the Kafka nodes are one step (a quorum starts together)."""
    spark = [[SparkConnectServer(SparkServerSpec.of(settings))]] if settings.spark_connect_url else []
    return [
        [RedisServer(settings)],
        KafkaCluster(settings).nodes,
        [S3Server(settings)],
        [IngestServer(settings)],
        [QueryServer(settings)],
        [StreamWorkerProcess(settings)],
        [MetadataIndexerProcess(settings)],
        [ExporterProcess(settings)],
        *spark,
        [DagsterWebserver(settings)],
        [DagsterDaemon(settings)],
    ]


def stack_services(settings: Settings) -> list[StackService]:
    return [service for step in start_steps(settings) for service in step]


@dataclass(frozen=True)
class StackUp:
    statuses: list[ServiceStatus]
    notes: list[str]  # what else `up` did: a Spark server it started warmed up, or not


def up(settings: Settings) -> StackUp:
    """Start whatever is not running, wait until all are healthy; idempotent. A Spark Connect
    server started now is warmed up (``spark_warm_up``) while the steps after it start."""
    statuses: list[ServiceStatus] = []
    warm_ups: list[SparkWarmUp] = []
    try:
        for step in start_steps(settings):
            started = ensure_running_together(step)
            statuses += started
            warm_ups += [
                SparkWarmUp(service).start()
                for service, status in zip(step, started, strict=True)
                if isinstance(service, SparkConnectServer)
                and status.ownership is Ownership.STARTED
                and SparkWarmUp.applies_to(service)
            ]
    except BaseException:
        for warm_up in warm_ups:
            warm_up.stop()
        raise
    return StackUp(statuses, [warm_up.outcome() for warm_up in warm_ups])


def down(settings: Settings) -> list[tuple[str, bool]]:
    """Stop, in reverse order, only what our pid files say we started."""
    return [stopped for step in reversed(start_steps(settings)) for stopped in stop_together(step)]


def status(settings: Settings) -> list[ServiceStatus]:
    return [service.status() for service in stack_services(settings)]
