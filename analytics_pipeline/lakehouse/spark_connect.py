"""Sessions on the long-lived Spark Connect server (``ANALYTICS_SPARK_CONNECT_URL``): a run gets
one in about a second, where a Spark of its own costs a cold JVM (tens of seconds on 2 cores)."""

from __future__ import annotations

import atexit
import contextlib
import gc
import threading

from pyspark.errors import PySparkException
from pyspark.sql import SparkSession
from pyspark.sql.connect.client.retries import DefaultPolicy
from pyspark.sql.connect.session import SparkSession as RemoteSparkSession

# The client's own default retries an unreachable server for 10 minutes; a step that lost its
# server should fail within seconds instead, so that its retry (which starts the server again)
# takes over. A blip shorter than this is still ridden out.
SERVER_GONE_RETRIES = {
    "max_retries": 4,
    "initial_backoff": 250,  # ms: then 500, 1,000, 2,000 (about 4 s in all)
    "backoff_multiplier": 2.0,
    "max_backoff": 2_000,
}

_sessions: dict[str, SparkSession] = {}
_retired: list[SparkSession] = []  # lost sessions, never finalized (_retire)
_lock = threading.Lock()


def is_connect(spark: SparkSession) -> bool:
    return isinstance(spark, RemoteSparkSession)


def connect_session(url: str) -> SparkSession:
    """This process's session on the server at ``url``; a new one when the cached session no
    longer answers (the server restarted, so its sessions are gone), for a step that is retried."""
    with _lock:
        cached = _sessions.get(url)
        if cached is not None and _answers(cached):
            return cached
        if cached is not None:
            del _sessions[url]
            _release(cached)
            _retire(cached)
        # pyspark's own builder, which also puts this process in Connect mode (functions such as
        # F.col then build Connect columns); a process is one or the other, never both.
        session = SparkSession.builder.remote(url).create()
        session.client.set_retry_policies([DefaultPolicy(**SERVER_GONE_RETRIES)])
        _sessions[url] = session
        return session


def _answers(session: SparkSession) -> bool:
    try:
        session.conf.get("spark.app.name")
    except (PySparkException, OSError):
        return False
    return True


def _release(session: SparkSession) -> None:
    """Free the session on the server (a dead server has nothing to free)."""
    with contextlib.suppress(PySparkException, OSError):
        session.stop()


def _retire(session: SparkSession) -> None:
    """Keep the lost session, and finalize its broken result streams now, while nothing else is in
    flight. In pyspark 4.1 the finalizer of a session shuts down the thread pool that every
    session's result streams share, and a stream's finalizer submits to it; run by the garbage
    collector in the middle of the next query's ``submit``, either deadlocks that query for good
    (SPARK-55362, SPARK-55406). So a lost session is never finalized (one small object per lost
    server), and its streams are collected here."""
    _retired.append(session)
    gc.collect()


@atexit.register
def _release_all() -> None:
    with _lock:
        for session in _sessions.values():
            _release(session)
        _sessions.clear()
