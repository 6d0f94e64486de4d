"""Where the object store is and which credentials sign for it.

Credentials come from the ``ANALYTICS_S3_*`` settings. Without them, a loopback endpoint (the
local S3 server) uses the key the stack starts it with, never a developer's ``AWS_*`` keys (they
would be written into the local server's configuration); any other endpoint takes the standard
``AWS_*`` variables (with ``AWS_SESSION_TOKEN`` for temporary keys), else boto3's own chain (an
instance role on AWS, say).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit

from analytics_pipeline.settings import Settings

# The local S3 server's own key pair: it listens on loopback only, so it guards nothing secret.
LOCAL_ACCESS_KEY = "analytics-local"
LOCAL_SECRET_KEY = "analytics-local-secret"  # noqa: S105 - a loopback-only test server's key


@dataclass(frozen=True)
class S3Endpoint:
    url: str
    region: str
    access_key: str | None
    secret_key: str | None
    session_token: str | None = None  # temporary credentials (STS, SSO, an assumed role)

    @property
    def host_port(self) -> tuple[str, int]:
        parts = urlsplit(self.url)
        default = 443 if parts.scheme == "https" else 80
        return parts.hostname or "127.0.0.1", parts.port or default

    def __repr__(self) -> str:  # never print the secret
        return f"S3Endpoint(url={self.url!r}, region={self.region!r}, access_key={self.access_key!r})"


def is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host in {"localhost", "::1"} or host.startswith("127.")


def s3_endpoint(settings: Settings) -> S3Endpoint:
    url, region = settings.s3_endpoint_url, settings.s3_region
    if settings.s3_access_key_id and settings.s3_secret_access_key:
        return S3Endpoint(
            url, region, settings.s3_access_key_id, settings.s3_secret_access_key.get_secret_value()
        )
    if is_loopback_url(url):
        return S3Endpoint(url, region, LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY)
    key, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
    if key and secret:
        return S3Endpoint(url, region, key, secret, os.environ.get("AWS_SESSION_TOKEN") or None)
    return S3Endpoint(url, region, None, None)
