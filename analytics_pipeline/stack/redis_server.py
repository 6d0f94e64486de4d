"""Debian's redis-server on loopback, configured from infra/redis/redis.conf.template."""

from __future__ import annotations

import shutil
from string import Template

import redis

from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.process import ManagedProcess
from analytics_pipeline.stack.services import INFRA_DIR, StackError, StackService, split_host_port


class RedisServer(StackService):
    name = "redis"
    address_setting = "ANALYTICS_REDIS_URL"
    start_timeout_s = 20.0

    def __init__(self, settings: Settings) -> None:
        host, port = split_host_port(settings.redis_url, 6379)
        home = settings.home.resolve()
        super().__init__(host, port, ManagedProcess(f"redis-{port}", home / "run", home / "logs"))
        self.settings = settings
        self.state_dir = home / "redis" / f"{port}"
        self.config_file = self.state_dir / "redis.conf"

    def healthy(self) -> bool:
        client = redis.Redis.from_url(self.settings.redis_url, socket_timeout=1, socket_connect_timeout=1)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def spawn(self) -> None:
        server = shutil.which("redis-server")
        if server is None:
            raise StackError("redis-server is not installed: `make install` (apt-get install redis-server)")
        self.state_dir.mkdir(parents=True, exist_ok=True)
        template = Template((INFRA_DIR / "redis" / "redis.conf.template").read_text())
        self.config_file.write_text(
            template.substitute(port=self.port, dir=self.state_dir, maxmemory=self.settings.redis_maxmemory)
        )
        # Redis rewrites its process title to "redis-server <bind>:<port>"; that is the marker.
        self.process.spawn([server, str(self.config_file)], marker=f"redis-server 127.0.0.1:{self.port}")
