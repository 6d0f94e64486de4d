"""Read Prometheus text the way a server would: {sample name: {sorted labels: value}}."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

Labels = tuple[tuple[str, str], ...]
Samples = dict[str, dict[Labels, float]]


def labels(**values: str) -> Labels:
    return tuple(sorted(values.items()))


def parse_samples(text: str) -> Samples:
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, {})[labels(**sample.labels)] = sample.value
    return found


def scrape(url: str) -> Samples:
    """One scrape of ``url``; {} when nothing answers (yet)."""
    try:
        response = httpx.get(url, timeout=5.0)
    except httpx.HTTPError:
        return {}
    return parse_samples(response.text) if response.status_code == 200 else {}
