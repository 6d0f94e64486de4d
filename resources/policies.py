"""When the sensors ask for a run (the ETL's and the archive's batch policies), and how often a
failed step is tried again."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg

from analytics_pipeline.lakehouse.batch_plan import BatchPolicy

# A step that failed (a broker restart, a lost Spark executor, an S3 blip) is retried inside its
# run: every write is idempotent, and a rerun skips what is already whole. The daemon's run
# retries cover a dead run worker only (dagster.yaml), so a deterministic refusal
# (Failure(allow_retries=False)) is never repeated.
STEP_RETRIES = dg.RetryPolicy(max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL)


class BatchPolicyResource(dg.ConfigurableResource):
    """When kafka_offsets_sensor asks for an ETL run (ANALYTICS_ETL_* settings)."""

    batch_size: int
    max_wait_s: float
    max_records_per_run: int

    def policy(self) -> BatchPolicy:
        return BatchPolicy(self.batch_size, timedelta(seconds=self.max_wait_s), self.max_records_per_run)


class ArchivePolicyResource(BatchPolicyResource):
    """When archival_sensor asks for an archive run, and how far behind archive_keeps_up allows."""

    max_lag_s: int
