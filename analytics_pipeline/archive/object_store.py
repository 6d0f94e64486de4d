"""The archive's bucket: put an object once, and know whether one already there is whole.

S3 writes are atomic (a cut upload leaves no object), but a key can still hold something that is
not a whole archive object: written by another tool, truncated by hand, or damaged. So an object
counts as archived only when its size and checksum match what its writer recorded in its
metadata; anything else is written again. The check costs one HEAD when the server's ETag is
the body's MD5 (a single-part upload, as here), and a download with a SHA-256 otherwise.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from analytics_pipeline.objectstore.client import ensure_bucket, s3_client
from analytics_pipeline.objectstore.endpoint import s3_endpoint
from analytics_pipeline.settings import Settings


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int


def _missing(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}


class ArchiveStore:
    def __init__(self, client: Any, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    def ensure_bucket(self) -> None:
        ensure_bucket(self.client, self.bucket)

    def whole(self, key: str) -> bool:
        """True if ``key`` holds a whole object as ``put`` wrote it (size and checksum match)."""
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _missing(exc):
                return False
            raise
        meta = head.get("Metadata", {})
        if not meta.get("sha256") or str(head["ContentLength"]) != meta.get("size"):
            return False
        if head.get("ETag", "").strip('"') == meta.get("md5"):
            return True
        return hashlib.sha256(self.read(key)).hexdigest() == meta["sha256"]

    def put(self, key: str, body: bytes, records: int) -> None:
        """Upload with Content-MD5, so the server refuses a body damaged on the way."""
        md5 = hashlib.md5(body)  # noqa: S324 - an integrity check S3 verifies, not security
        self.client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=body,
            ContentMD5=base64.b64encode(md5.digest()).decode(),
            ContentType="application/vnd.apache.parquet",
            Metadata={
                "sha256": hashlib.sha256(body).hexdigest(),
                "md5": md5.hexdigest(),
                "size": str(len(body)),
                "records": str(records),
            },
        )

    def put_once(self, key: str, body: bytes, records: int) -> bool:
        """Write unless a whole object is already there; True if it wrote."""
        if self.whole(key):
            return False
        self.put(key, body, records)
        return True

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def objects(self, prefix: str) -> Iterator[ObjectInfo]:
        """The archive objects under ``prefix``, in key order (folder placeholders left out)."""
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        try:
            for page in pages:
                for item in page.get("Contents", []):
                    if item["Key"].endswith(".parquet"):
                        yield ObjectInfo(item["Key"], int(item["Size"]))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "NoSuchBucket":
                raise


def settings_archive_store(settings: Settings) -> ArchiveStore:
    """The archive of the ``ANALYTICS_S3_*`` settings (outside Dagster: the CLI, the demo)."""
    return ArchiveStore(s3_client(s3_endpoint(settings)), settings.archive_bucket)
