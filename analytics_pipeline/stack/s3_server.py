"""The local S3-compatible server: S3Proxy over a folder under the stack's home, run from the
jars Maven fetched (infra/jvm/s3-server.pom.xml)."""

from __future__ import annotations

import os
from string import Template

from analytics_pipeline.objectstore.client import answers
from analytics_pipeline.objectstore.endpoint import s3_endpoint
from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.jars import ensure_jars
from analytics_pipeline.stack.kafka_broker import java_executable
from analytics_pipeline.stack.process import ManagedProcess
from analytics_pipeline.stack.services import INFRA_DIR, StackError, StackService

MAIN_CLASS = "org.gaul.s3proxy.Main"


class S3Server(StackService):
    name = "s3"
    address_setting = "ANALYTICS_S3_ENDPOINT_URL"
    start_timeout_s = 60.0

    def __init__(self, settings: Settings) -> None:
        self.endpoint = s3_endpoint(settings)
        host, port = self.endpoint.host_port
        home = settings.home.resolve()
        super().__init__(host, port, ManagedProcess(f"s3-{port}", home / "run", home / "logs"))
        self.settings = settings
        self.state_dir = home / "s3" / f"{port}"
        self.config_file = self.state_dir / "s3proxy.properties"
        self.data_dir = self.state_dir / "data"

    def healthy(self) -> bool:
        return answers(self.endpoint)

    def spawn(self) -> None:
        if not (self.endpoint.access_key and self.endpoint.secret_key):
            raise StackError(
                "the local S3 server needs a key: set ANALYTICS_S3_ACCESS_KEY_ID and ..._SECRET_ACCESS_KEY"
            )
        classpath = str(ensure_jars(self.settings.jar_root, "s3-server") / "*")
        java = java_executable(self.settings)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        template = Template((INFRA_DIR / "s3" / "s3proxy.properties.template").read_text())
        rendered = template.substitute(
            host=self.host,
            port=self.port,
            access_key=self.endpoint.access_key,
            secret_key=self.endpoint.secret_key,
            data_dir=self.data_dir,
        )
        self.config_file.unlink(missing_ok=True)
        descriptor = os.open(
            self.config_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600
        )  # it holds the key
        with os.fdopen(descriptor, "w") as config:
            config.write(rendered)
        heap = self.settings.s3_server_heap
        argv = [
            java,
            f"-Xmx{heap}",
            "-Djava.awt.headless=true",
            f"-Dlogback.configurationFile={INFRA_DIR / 's3' / 'logback.xml'}",
            "-cp",
            classpath,
            MAIN_CLASS,
            "--properties",
            str(self.config_file),
        ]
        self.process.spawn(argv, marker=str(self.config_file), env=os.environ.copy())
