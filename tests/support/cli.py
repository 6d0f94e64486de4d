"""The `analytics` command of this venv, run as a user runs it, against a stack's settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from analytics_pipeline.settings import Settings

ANALYTICS = str(Path(sys.executable).with_name("analytics"))


def analytics(
    settings: Settings, *args: str, timeout: float = 120, **env: str
) -> subprocess.CompletedProcess[str]:
    """Runs ``analytics ARGS`` with the stack's settings (and ``env``) in its environment; wide
    columns, so rich tables are not wrapped in what the tests read."""
    return subprocess.run(
        [ANALYTICS, *args],
        env={**os.environ, **settings.as_environment(), "COLUMNS": "200", **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
