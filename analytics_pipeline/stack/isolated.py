"""A stack beside another: fresh loopback ports and its own state folder (tests, benchmarks).

The jars come from the repo's .local/jars (fetched once by `make install`), so a private stack
does not refetch them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.ports import free_ports
from analytics_pipeline.stack.services import REPO_ROOT

SHARED_JARS_DIR = REPO_ROOT / ".local" / "jars"
# The setting that places each service; a service whose setting is given explicitly stays put.
_ADDRESS_SETTING = {
    "kafka": "kafka_bootstrap_servers",
    "redis": "redis_url",
    "ingest": "ingest_port",
    "query": "query_port",
    "stream": "stream_metrics_port",
    "index": "index_metrics_port",
    "exporter": "exporter_port",
    "dagster": "dagster_url",
    "s3": "s3_endpoint_url",
    "spark": "spark_connect_url",
}


def with_new_ports(settings: Settings, *services: str) -> Settings:
    """A copy of the settings in which the named services (keys of ``_ADDRESS_SETTING``) move."""
    nodes = settings.kafka_brokers
    redis, ingest, query, stream, index, dagster, s3, exporter, spark, *kafka = free_ports(9 + 2 * nodes)
    brokers, controllers = kafka[:nodes], kafka[nodes:]
    moves: dict[str, dict[str, Any]] = {
        "kafka": {  # every node of the local cluster: a broker port and a controller port
            "kafka_bootstrap_servers": ",".join(f"127.0.0.1:{port}" for port in brokers),
            "kafka_controller_port": ",".join(str(port) for port in controllers),
        },
        "redis": {"redis_url": f"redis://127.0.0.1:{redis}/0"},
        "ingest": {"ingest_port": ingest},
        "query": {"query_port": query},
        "stream": {"stream_metrics_port": stream},
        "index": {"index_metrics_port": index},
        "exporter": {"exporter_port": exporter},
        "dagster": {"dagster_url": f"http://127.0.0.1:{dagster}"},
        "s3": {"s3_endpoint_url": f"http://127.0.0.1:{s3}"},
        "spark": {"spark_connect_url": f"sc://127.0.0.1:{spark}"},
    }
    update: dict[str, Any] = {}
    for service in services:
        update |= moves[service]
    return settings.model_copy(update=update)


def isolated_settings(home: Path, **overrides: Any) -> Settings:
    """Settings for a private stack under ``home``, every service on a free port."""
    settings = Settings(**{"home": home, "jars_dir": SHARED_JARS_DIR, **overrides})
    return with_new_ports(settings, *(name for name, key in _ADDRESS_SETTING.items() if key not in overrides))
