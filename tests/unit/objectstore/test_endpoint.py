"""Which credentials sign S3 requests: the settings, else AWS_*, else the local server's key."""

from __future__ import annotations

import pytest

from analytics_pipeline.objectstore.endpoint import LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY, s3_endpoint
from analytics_pipeline.settings import Settings


@pytest.fixture(autouse=True)
def no_aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(variable, raising=False)


def test_the_local_server_gets_its_own_key() -> None:
    endpoint = s3_endpoint(Settings())
    assert endpoint.url == "http://127.0.0.1:9000"
    assert (endpoint.access_key, endpoint.secret_key) == (LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY)
    assert endpoint.host_port == ("127.0.0.1", 9000)


def test_a_developers_aws_keys_never_reach_the_local_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "from-env")
    endpoint = s3_endpoint(Settings())
    assert (endpoint.access_key, endpoint.secret_key) == (LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY)


def test_a_remote_endpoint_takes_the_aws_variables_with_a_session_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "ASIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "from-env")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "token")
    endpoint = s3_endpoint(Settings(s3_endpoint_url="https://s3.eu-west-1.amazonaws.com"))
    assert (endpoint.access_key, endpoint.secret_key, endpoint.session_token) == (
        "ASIAEXAMPLE",
        "from-env",
        "token",
    )


def test_settings_come_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "from-env")
    endpoint = s3_endpoint(Settings(s3_access_key_id="mine", s3_secret_access_key="my-secret"))
    assert (endpoint.access_key, endpoint.secret_key) == ("mine", "my-secret")


def test_a_remote_endpoint_without_keys_is_left_to_boto3s_chain() -> None:
    endpoint = s3_endpoint(Settings(s3_endpoint_url="https://s3.eu-west-1.amazonaws.com"))
    assert (endpoint.access_key, endpoint.secret_key) == (None, None)
    assert endpoint.host_port == ("s3.eu-west-1.amazonaws.com", 443)


def test_the_secret_is_never_printed() -> None:
    assert LOCAL_SECRET_KEY not in repr(s3_endpoint(Settings()))
