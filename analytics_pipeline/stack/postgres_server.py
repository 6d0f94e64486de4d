"""Debian's PostgreSQL as a throwaway server, for the metadata store on PostgreSQL.

The test fixtures use it; an operator points ANALYTICS_METADATA_URL at their own server instead.
PostgreSQL refuses to run as root, so as root it runs as the ``postgres`` system user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
from pathlib import Path

import sqlalchemy

from analytics_pipeline.stack.process import ManagedProcess
from analytics_pipeline.stack.services import StackError, StackService

SUPERUSER = "analytics"


def postgres_bin_dir() -> Path:
    """The newest installed server binaries (/usr/lib/postgresql/<major>/bin)."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parts[-3]))
    if not candidates:
        raise StackError("PostgreSQL server binaries not found: apt-get install postgresql")
    return candidates[-1].parent


class PostgresServer(StackService):
    name = "postgres"
    start_timeout_s = 30.0

    def __init__(self, home: Path, data_dir: Path, port: int) -> None:
        """``data_dir`` must be reachable by the ``postgres`` user when running as root (not
        under a 0700 temporary folder of root's)."""
        home = home.resolve()
        # SIGINT is PostgreSQL's "fast shutdown"; SIGTERM would wait for every client to leave.
        process = ManagedProcess(f"postgres-{port}", home / "run", home / "logs", stop_signal=signal.SIGINT)
        super().__init__("127.0.0.1", port, process)
        self.data_dir = data_dir.resolve()
        self._user = "postgres" if os.geteuid() == 0 else None

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/postgres"

    def healthy(self) -> bool:
        engine = sqlalchemy.create_engine(self.url, connect_args={"connect_timeout": 1})
        try:
            with engine.connect() as conn:
                return conn.execute(sqlalchemy.text("select 1")).scalar() == 1
        except sqlalchemy.exc.SQLAlchemyError:
            return False
        finally:
            engine.dispose()

    def spawn(self) -> None:
        bin_dir = postgres_bin_dir()
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb(bin_dir)
        argv = [
            str(bin_dir / "postgres"),
            "-D",
            str(self.data_dir),
            "-p",
            str(self.port),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            f"unix_socket_directories={self.data_dir}",
            "-c",
            "fsync=off",  # a throwaway server: durability is the production server's job
        ]
        self.process.spawn(argv, marker=str(self.data_dir), user=self._user)

    def _initdb(self, bin_dir: Path) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self._user is not None:
            entry = pwd.getpwnam(self._user)
            shutil.chown(self.data_dir, entry.pw_uid, entry.pw_gid)
        command = [
            str(bin_dir / "initdb"),
            "-D",
            str(self.data_dir),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "-E",
            "UTF8",
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=False, user=self._user)  # noqa: S603
        if result.returncode != 0:
            raise StackError(f"initdb failed:\n{result.stdout}{result.stderr}")
