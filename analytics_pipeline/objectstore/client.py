"""A boto3 S3 client for any S3 API: AWS, or an S3-compatible server such as the local one."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from analytics_pipeline.objectstore.endpoint import S3Endpoint, is_loopback_url

# Path-style addressing works with every server (no per-bucket DNS names). Checksums only where
# the API requires them: boto3's default adds CRC trailers that some S3-compatible servers
# (S3Proxy among them) refuse as "not implemented"; the archive sends Content-MD5 itself.
_CLIENT_CONFIG = Config(
    s3={"addressing_style": "path"},
    request_checksum_calculation="when_required",
    response_checksum_validation="when_required",
    retries={"max_attempts": 3, "mode": "standard"},
    connect_timeout=5,
    read_timeout=60,
)
_HEALTH_CONFIG = _CLIENT_CONFIG.merge(Config(retries={"max_attempts": 1}, connect_timeout=1, read_timeout=3))


def s3_client(endpoint: S3Endpoint, config: Config = _CLIENT_CONFIG) -> Any:
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint.url,
        region_name=endpoint.region,
        aws_access_key_id=endpoint.access_key,
        aws_secret_access_key=endpoint.secret_key,
        aws_session_token=endpoint.session_token,
        config=config,
    )


def ensure_bucket(client: Any, bucket: str) -> bool:
    """Create the bucket unless it exists; True if it was created now."""
    try:
        client.head_bucket(Bucket=bucket)
        return False
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in {"404", "NoSuchBucket", "NotFound"}:
            raise
    region = client.meta.region_name
    where = (
        {} if region in {None, "us-east-1"} else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    )
    try:
        client.create_bucket(Bucket=bucket, **where)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in {
            "BucketAlreadyOwnedByYou",
            "BucketAlreadyExists",
        }:
            raise
        return False
    return True


def answers(endpoint: S3Endpoint) -> bool:
    """True if the endpoint answers a signed ListBuckets: with success for the local server (it is
    up and knows the key); with any S3 answer for another (a key scoped to one bucket may not list
    them all, and the archive's own calls say so when the key does not fit)."""
    client = s3_client(endpoint, _HEALTH_CONFIG)
    try:
        client.list_buckets()
        return True
    except ClientError:
        return not is_loopback_url(endpoint.url)
    except Exception:  # noqa: BLE001 - anything short of an answer means no
        return False
    finally:
        client.close()
