"""Streaming worker throughput and lag, as ratios against bare Kafka and bare Redis measured in the same run.

Starts a private Kafka and Redis (fresh ports and state, nothing shared with `make up`), stops the
stack's own stream worker so that only the measured one runs, pre-loads N raw events exactly as
the ingestion service writes them (not measured), then:

  baseline A  a bare kafka-python consumer (own group, earliest) reading the N records, no processing
  baseline B  the Redis writes a naive client issues for the N events: per event SET NX EX of the
              processed mark, then HINCRBY / PFADD / EXPIREAT on the same keys as realtime/layout.py,
              pipelined (transaction=False) 1,000 events at a time
  worker      StreamWorker.run in a thread over the N records (fresh group): decode, publish the
              processed events, one Lua script per batch, snapshots, commit; until all is committed
  lag         a producer process (a thread would take the worker's GIL) writes live events at
              --rate for --lag-seconds while a worker consumes; lag = end offsets minus the worker
              group's committed offsets, sampled every second
  CPU         cores busy per process (this one, the producer, Redis, Kafka) in each run, from /proc:
              on 2 shared cores it says whether the machine or the worker was the limit

The worker's rate is compared with min(A, B): it can be no faster than reading Kafka, and a client
that does the same Redis writes naively is what one Lua script per batch must beat. Everything
shares the machine's cores with Kafka and Redis, so figures are lower bounds; compare the ratios.

Run: .venv/bin/python -m bench.stream [--events N] [--lag-seconds S] [--rate R]
"""
