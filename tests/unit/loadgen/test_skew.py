"""eventIds chosen to land on one partition, by the producer's own murmur2."""

from __future__ import annotations

import pytest
from kafka.partitioner.default import DefaultPartitioner

from analytics_pipeline.loadgen.skew import event_ids_on_partition, partition_of


class OneTopic:
    """The cluster metadata DefaultPartitioner asks: one topic of ``partitions``."""

    def __init__(self, partitions: int) -> None:
        self._partitions = set(range(partitions))

    def topics(self) -> set[str]:
        return {"events.shop"}

    def partitions_for_topic(self, _topic: str) -> set[int]:
        return self._partitions

    def available_partitions_for_topic(self, _topic: str) -> set[int]:
        return self._partitions


@pytest.mark.parametrize(("partition", "partitions"), [(0, 3), (2, 3), (57, 100)])
def test_every_id_lands_where_the_producer_puts_it(partition: int, partitions: int) -> None:
    ids = event_ids_on_partition(partition, partitions, 50)
    assert len(set(ids)) == 50
    producer = DefaultPartitioner()
    cluster = OneTopic(partitions)
    for event_id in ids:
        key = event_id.encode()
        assert producer.partition("events.shop", event_id, key, None, None, cluster) == partition
        assert partition_of(key, partitions) == partition


def test_a_partition_the_topic_does_not_have_is_refused() -> None:
    with pytest.raises(ValueError, match="partition 3 is not one of the topic's 3 partitions"):
        event_ids_on_partition(3, 3, 1)
