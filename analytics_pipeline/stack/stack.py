"""The local stack as a whole, in dependency order: Redis, Kafka, the S3 server, the APIs, the
streaming worker, the metadata indexer, the metrics exporter, then Dagster's webserver and daemon."""

from __future__ import annotations

from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.api_servers import IngestServer, QueryServer
from analytics_pipeline.stack.dagster_services import DagsterDaemon, DagsterWebserver
from analytics_pipeline.stack.exporter import ExporterProcess
from analytics_pipeline.stack.kafka_broker import KafkaBroker
from analytics_pipeline.stack.metadata_indexer import MetadataIndexerProcess
from analytics_pipeline.stack.redis_server import RedisServer
from analytics_pipeline.stack.s3_server import S3Server
from analytics_pipeline.stack.services import ServiceStatus, StackService
from analytics_pipeline.stack.stream_worker import StreamWorkerProcess


def stack_services(settings: Settings) -> list[StackService]:
    return [
        RedisServer(settings),
        KafkaBroker(settings),
        S3Server(settings),
        IngestServer(settings),
        QueryServer(settings),
        StreamWorkerProcess(settings),
        MetadataIndexerProcess(settings),
        ExporterProcess(settings),
        DagsterWebserver(settings),
        DagsterDaemon(settings),
    ]


def up(settings: Settings) -> list[ServiceStatus]:
    """Start whatever is not running, wait until all are healthy; idempotent."""
    return [service.ensure_running() for service in stack_services(settings)]


def down(settings: Settings) -> list[tuple[str, bool]]:
    """Stop, in reverse order, only what our pid files say we started."""
    return [(service.name, service.stop()) for service in reversed(stack_services(settings))]


def status(settings: Settings) -> list[ServiceStatus]:
    return [service.status() for service in stack_services(settings)]
