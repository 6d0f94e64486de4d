"""JVM artifacts fetched with Maven from the poms under infra/jvm, never at run time.

A folder per pom under ``{home}/jars``; a stamp file holds the pom's hash, so editing a pom (a
version bump) refetches, and an unchanged pom costs nothing.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

from analytics_pipeline.stack.services import INFRA_DIR, StackError

STAMP = ".pom-sha256"
JVM_POMS = ("kafka-broker", "spark-lakehouse", "s3-server", "spark-s3a")  # infra/jvm/{name}.pom.xml


def pom_path(name: str) -> Path:
    return INFRA_DIR / "jvm" / f"{name}.pom.xml"


def ensure_jars(jar_root: Path, name: str) -> Path:
    """The folder holding every jar of ``infra/jvm/{name}.pom.xml``, fetched if missing or stale."""
    pom = pom_path(name)
    target = jar_root / name
    digest = hashlib.sha256(pom.read_bytes()).hexdigest()
    stamp = target / STAMP
    if stamp.exists() and stamp.read_text().strip() == digest:
        return target
    mvn = shutil.which("mvn")
    if mvn is None:
        raise StackError("Maven (mvn) is needed to fetch the JVM artifacts: apt-get install maven")
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    command = [
        mvn,
        "-q",
        "-B",
        "-f",
        str(pom),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={staging}",
        "-DincludeScope=runtime",
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise StackError(f"mvn could not fetch {pom.name}:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    (staging / STAMP).write_text(digest)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target
