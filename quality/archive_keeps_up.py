"""archive_keeps_up: archival must never fall silently behind Kafka's retention."""

from __future__ import annotations

import dagster as dg

from analytics_pipeline.archive.lag import archive_lag
from analytics_pipeline.timeutil import utc_now
from keys import EVENTS_ARCHIVE
from resources.kafka import KafkaResource
from resources.policies import ArchivePolicyResource


@dg.asset_check(
    asset=EVENTS_ARCHIVE,
    name="archive_keeps_up",
    description="Fails when the oldest raw record not yet archived is older than the allowed lag.",
)
def archive_keeps_up(kafka: KafkaResource, archive_policy: ArchivePolicyResource) -> dg.AssetCheckResult:
    ends = kafka.raw_end_offsets()
    committed = kafka.committed(kafka.archive_group)
    lag = archive_lag(kafka.bootstrap_servers, ends, committed, kafka.timeout_s)
    age_s = lag.age_s(utc_now())
    return dg.AssetCheckResult(
        passed=age_s <= archive_policy.max_lag_s,
        metadata={
            "unarchived_records": lag.unarchived,
            "oldest_unarchived_age_s": round(age_s, 1),
            "allowed_lag_s": archive_policy.max_lag_s,
            "oldest_unarchived_at": lag.oldest.isoformat() if lag.oldest else "none",
            "oldest_partition": f"{lag.oldest_partition[0]}/{lag.oldest_partition[1]}"
            if lag.oldest_partition
            else "none",
        },
    )
