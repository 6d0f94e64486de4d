"""Settings for services the tests start: fresh ports and state under a temporary folder.

The jars come from the repo's .local/jars (fetched once by `make install`), so a test session
does not refetch them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.ports import free_ports
from analytics_pipeline.stack.services import REPO_ROOT

JARS_DIR = REPO_ROOT / ".local" / "jars"


def isolated_settings(home: Path, **overrides: Any) -> Settings:
    kafka_port, controller_port, redis_port, ingest_port = free_ports(4)
    values: dict[str, Any] = {
        "home": home,
        "jars_dir": JARS_DIR,
        "kafka_bootstrap_servers": f"127.0.0.1:{kafka_port}",
        "kafka_controller_port": controller_port,
        "kafka_broker_heap": "512m",
        "kafka_produce_timeout_s": 3.0,
        "redis_url": f"redis://127.0.0.1:{redis_port}/0",
        "redis_maxmemory": "256mb",
        "ingest_port": ingest_port,
        "rate_limit_project": "100000/second",
        "schema_local_ttl_s": 0.5,
        "api_key_cache_ttl_s": 1.0,
    }
    values.update(overrides)
    return Settings(**values)


def with_new_ports(settings: Settings, *services: str) -> Settings:
    """A copy of the settings in which the named services ("kafka", "redis", "ingest") move."""
    kafka_port, controller_port, redis_port, ingest_port = free_ports(4)
    update: dict[str, Any] = {}
    if "kafka" in services:
        update |= {
            "kafka_bootstrap_servers": f"127.0.0.1:{kafka_port}",
            "kafka_controller_port": controller_port,
        }
    if "redis" in services:
        update["redis_url"] = f"redis://127.0.0.1:{redis_port}/0"
    if "ingest" in services:
        update["ingest_port"] = ingest_port
    return settings.model_copy(update=update)
