"""Batch ETL throughput against a baseline in the same Spark session, and end-to-end freshness.

Throughput. A private Kafka (fresh ports and state, nothing shared with `make up`) and a private
lake; one project with the example property schemas; N events pre-loaded into its raw topic
exactly as the ingestion service writes them (not measured), 1 % of them sent twice (retries) and
2 % of purchases breaking their schema. One Spark session (local[*]), warmed up untimed, then
in turn, --rounds times each, over the same offset ranges:

  baseline  kafka_source.read_ranges -> .write.parquet: reading the records costs this much anyway
  ceiling   the same read, the envelope parsed by Spark's JSON reader with no check, cached, then
            a bronze and a deduplicated validated append (Delta): what no ETL writing both tables
            can beat here, so the distance from it is the price of judging records in Python
  ETL       batch_etl.run_batch into a fresh lake: read, parse and judge every record in Python,
            bronze append, deduplicated insert into validated_events, quarantine append

The figure is the median events/s of each and their ratio (the goal: the ETL at least 60 % of
the baseline). The ETL's time is split by phase of run_batch, measured by wrapping the writes it
calls (production code is not changed). Spark, Kafka and everything else share 2 cores: the
rounds table says how busy each was, so a round slowed by a neighbour shows.

Freshness (--freshness, on by default). A second private stack with everything `analytics stack
up` runs, including the Dagster webserver and daemon, and the default ANALYTICS_ETL_* settings;
a light steady load of single events posted to /v1/events, each 202 timed; then the time until
each event is queryable in validated_events, from the daemon's kafka_batch_etl runs, split into
the wait for a run, its launch, its wait for the lake pool and its batch step up to the commit.

Steady state (--steady, a run of its own). A private Kafka and three lakes holding the same
history of --history validated events over 7 days; then --batches consecutive batches of
--batch-events events landing on those days (late events included, repeats within and across
batches), each written by run_batch into one lake, by the ceiling (with the same deduplication)
into another, and by the judge floor (the ceiling, plus each record judged in Python by the least
check and the failed ones quarantined: bench/etl/steady_paths.py) into the third. Reported per
batch: the lake's rows, the rows the deduplication compared with, and the cost per record of
each path; then the ETL's phases. The goals: the last batches' cost per event at most 1.2x the
first ones', and the ETL at least 0.8x the ceiling.

Judges (--judges, a run of its own). A private Kafka and --judge-events records; the read alone,
the JVM's verdict alone, the Python judge, and the JVM first then Python, each into Spark's noop
sink (bench/etl/judges.py): what judging costs a record, by judge.

Run: .venv/bin/python -m bench.etl [--events N] [--rounds R] [--freshness/--no-freshness]
     .venv/bin/python -m bench.etl --judges [--judge-events N]
     .venv/bin/python -m bench.etl --steady [--history N] [--batches B] [--batch-events E]
"""
