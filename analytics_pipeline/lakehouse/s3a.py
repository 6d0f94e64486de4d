"""The lake on S3 (``ANALYTICS_LAKE_DIR=s3a://bucket/lake``): what Spark's S3A filesystem and
delta-rs need to reach the same S3 endpoint, with the same credentials, as the archive.

Delta on S3 has no atomic put-if-absent without a log store of its own (DynamoDB), so a lake on
S3 must have one writer at a time: the Dagster pool ``lake`` gives that to every lake write.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from analytics_pipeline.objectstore.endpoint import S3Endpoint

S3A_POM = "spark-s3a"  # infra/jvm/spark-s3a.pom.xml: hadoop-aws and the AWS SDK bundle
_KEY_PROVIDER = "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider"
_TEMPORARY_KEY_PROVIDER = "org.apache.hadoop.fs.s3a.TemporaryAWSCredentialsProvider"


def is_s3a(path: str) -> bool:
    return path.startswith("s3a://")


def lake_bucket(path: str) -> str:
    return urlsplit(path).netloc


def s3a_spark_conf(endpoint: S3Endpoint) -> dict[str, str]:
    """Spark settings for S3A against ``endpoint`` (path-style, so any S3-compatible server works)."""
    conf = {
        "spark.hadoop.fs.s3a.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
        "spark.hadoop.fs.s3a.endpoint": endpoint.url,
        "spark.hadoop.fs.s3a.endpoint.region": endpoint.region,
        "spark.hadoop.fs.s3a.path.style.access": "true",
        "spark.hadoop.fs.s3a.connection.ssl.enabled": str(endpoint.url.startswith("https")).lower(),
        # fail fast when the server is away; Dagster's step retries take it from there
        "spark.hadoop.fs.s3a.attempts.maximum": "3",
        "spark.hadoop.fs.s3a.retry.limit": "3",
    }
    if endpoint.access_key and endpoint.secret_key:
        conf |= {
            "spark.hadoop.fs.s3a.aws.credentials.provider": _KEY_PROVIDER,
            "spark.hadoop.fs.s3a.access.key": endpoint.access_key,
            "spark.hadoop.fs.s3a.secret.key": endpoint.secret_key,
        }
        if endpoint.session_token:
            conf |= {
                "spark.hadoop.fs.s3a.aws.credentials.provider": _TEMPORARY_KEY_PROVIDER,
                "spark.hadoop.fs.s3a.session.token": endpoint.session_token,
            }
    return conf


def delta_rs_storage_options(endpoint: S3Endpoint) -> dict[str, str]:
    """delta-rs (the query service's reader) options for the same endpoint."""
    options = {
        "AWS_ENDPOINT_URL": endpoint.url,
        "AWS_REGION": endpoint.region,
        "AWS_ALLOW_HTTP": str(endpoint.url.startswith("http://")).lower(),
        "AWS_VIRTUAL_HOSTED_STYLE_REQUEST": "false",
    }
    if endpoint.access_key and endpoint.secret_key:
        options |= {"AWS_ACCESS_KEY_ID": endpoint.access_key, "AWS_SECRET_ACCESS_KEY": endpoint.secret_key}
    if endpoint.session_token:
        options["AWS_SESSION_TOKEN"] = endpoint.session_token
    return options
