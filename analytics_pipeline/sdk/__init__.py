"""Python client SDK of the ingestion API: batching, retries with stable eventIds, a delivery report."""

from analytics_pipeline.sdk.buffer import QueueFullError
from analytics_pipeline.sdk.client import AnalyticsClient
from analytics_pipeline.sdk.report import BatchOutcome, DeliveryReport, FailedEvent, RejectedEvent

__all__ = [
    "AnalyticsClient",
    "BatchOutcome",
    "DeliveryReport",
    "FailedEvent",
    "QueueFullError",
    "RejectedEvent",
]
