"""The S3-compatible object storage (dagster-aws's S3 resource) the archive and an S3 lake use."""

from __future__ import annotations

from typing import Any

from dagster_aws.s3 import S3Resource

from analytics_pipeline.archive.object_store import ArchiveStore
from analytics_pipeline.objectstore.client import s3_client
from analytics_pipeline.objectstore.endpoint import S3Endpoint


class ObjectStorageResource(S3Resource):
    """dagster-aws's S3 resource, with the client the archive needs (path-style addressing and
    checksums S3-compatible servers accept), and the archive's bucket."""

    archive_bucket: str

    def endpoint(self) -> S3Endpoint:
        return S3Endpoint(
            self.endpoint_url or "",
            self.region_name or "us-east-1",
            self.aws_access_key_id,
            self.aws_secret_access_key,
        )

    def get_client(self) -> Any:
        return s3_client(self.endpoint())

    def archive_store(self) -> ArchiveStore:
        return ArchiveStore(self.get_client(), self.archive_bucket)
