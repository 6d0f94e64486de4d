"""bench/query: the query service's latencies and its SQL engine against the bare engine.

A private Kafka, Redis and query API (nothing else runs), over a lake of ``--events`` validated
events written straight into Delta with delta-rs (the same layout the ETL writes), plus a
second project's events that no answer may include. It measures, median of rounds after a
warm-up, each beside its reference in the same run:

- a cached SQL answer and a 5-window metric query: p50 and p99 over sequential requests
  (goal: p99 at most 10 ms);
- a cache-miss aggregate over all the project's events through the service, beside DuckDB
  running the same query on the same files in this process (goal: at most 2 s, and the service at
  least 0.8 of the bare engine's speed), and beside Spark SQL on the same table (the engine the
  service could use instead).

It exits non-zero when any answer differs from the counts computed while the events were built.
"""
