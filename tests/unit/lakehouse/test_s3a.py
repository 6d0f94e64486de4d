"""Spark's S3A and delta-rs reach the lake's S3 endpoint with the archive's credentials."""

from __future__ import annotations

from analytics_pipeline.lakehouse.s3a import delta_rs_storage_options, is_s3a, lake_bucket, s3a_spark_conf
from analytics_pipeline.objectstore.endpoint import S3Endpoint

LOCAL = S3Endpoint("http://127.0.0.1:9000", "us-east-1", "key", "secret")
AWS_ROLE = S3Endpoint("https://s3.eu-west-1.amazonaws.com", "eu-west-1", None, None)


def test_only_s3a_roots_are_on_s3() -> None:
    assert is_s3a("s3a://bucket/lake")
    assert not is_s3a("/var/lake")
    assert lake_bucket("s3a://bucket/some/lake") == "bucket"


def test_spark_gets_the_endpoint_path_style_and_the_key() -> None:
    conf = s3a_spark_conf(LOCAL)
    assert conf["spark.hadoop.fs.s3a.endpoint"] == "http://127.0.0.1:9000"
    assert conf["spark.hadoop.fs.s3a.path.style.access"] == "true"
    assert conf["spark.hadoop.fs.s3a.connection.ssl.enabled"] == "false"
    assert (conf["spark.hadoop.fs.s3a.access.key"], conf["spark.hadoop.fs.s3a.secret.key"]) == (
        "key",
        "secret",
    )


def test_without_a_key_s3a_uses_its_own_credential_chain() -> None:
    conf = s3a_spark_conf(AWS_ROLE)
    assert "spark.hadoop.fs.s3a.access.key" not in conf
    assert "spark.hadoop.fs.s3a.aws.credentials.provider" not in conf
    assert conf["spark.hadoop.fs.s3a.connection.ssl.enabled"] == "true"


def test_delta_rs_gets_the_same_endpoint() -> None:
    options = delta_rs_storage_options(LOCAL)
    assert options["AWS_ENDPOINT_URL"] == "http://127.0.0.1:9000"
    assert options["AWS_ALLOW_HTTP"] == "true"
    assert (options["AWS_ACCESS_KEY_ID"], options["AWS_SECRET_ACCESS_KEY"]) == ("key", "secret")
    assert "AWS_ACCESS_KEY_ID" not in delta_rs_storage_options(AWS_ROLE)


def test_temporary_credentials_carry_their_session_token() -> None:
    temporary = S3Endpoint("https://s3.eu-west-1.amazonaws.com", "eu-west-1", "ASIA", "secret", "token")
    conf = s3a_spark_conf(temporary)
    assert conf["spark.hadoop.fs.s3a.session.token"] == "token"
    assert conf["spark.hadoop.fs.s3a.aws.credentials.provider"].endswith("TemporaryAWSCredentialsProvider")
    assert delta_rs_storage_options(temporary)["AWS_SESSION_TOKEN"] == "token"
