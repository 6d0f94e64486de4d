"""Where a test's lake lives: a folder, or a bucket of the stack's S3 server (an s3a:// root),
and how a test sees a table's Delta commits in either."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from analytics_pipeline.objectstore.client import s3_client
from analytics_pipeline.stack.s3_server import S3Server

KINDS = ("folder", "s3")


@dataclass(frozen=True)
class LakeLocation:
    root: str
    client: Any = None  # a boto3 client when the lake is on S3

    def table(self, name: str) -> str:
        return f"{self.root}/{name}"

    def commits(self, name: str) -> list[int]:
        """The versions committed to a Delta table (complete JSON commits only, not temp files)."""
        if self.client is None:
            log = Path(self.table(name)) / "_delta_log"
            names = [p.name for p in log.glob("*.json")] if log.is_dir() else []
        else:
            parts = urlsplit(self.table(name))
            prefix = f"{parts.path.lstrip('/')}/_delta_log/"
            try:
                page = self.client.list_objects_v2(Bucket=parts.netloc, Prefix=prefix)
            except self.client.exceptions.NoSuchBucket:
                return []  # the run creates the bucket on its first write
            names = [item["Key"].rsplit("/", 1)[-1] for item in page.get("Contents", [])]
        return sorted(int(n.removesuffix(".json")) for n in names if n.endswith(".json") and n[:-5].isdigit())


def lake_location(kind: str, tmp_path: Path, s3_server: S3Server | None = None) -> LakeLocation:
    if kind == "folder":
        return LakeLocation(str(tmp_path / "lake"))
    assert s3_server is not None
    return LakeLocation(f"s3a://lake-{uuid.uuid4().hex[:12]}/lake", s3_client(s3_server.endpoint))
