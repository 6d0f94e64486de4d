"""Delta tables by path, through SQL only: the same calls work in a Spark of the run's own and over
Spark Connect, where delta-spark's ``DeltaTable`` API would need a server plugin (delta-connect)
that the Maven mirror here does not serve."""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.errors import AnalysisException
from pyspark.sql import Row, SparkSession
from pyspark.sql.types import StructField

# What Delta answers for a path that holds no table (a missing folder or one without _delta_log).
NO_TABLE = frozenset({"DELTA_MISSING_DELTA_TABLE", "DELTA_TABLE_ONLY_OPERATION"})


def delta_path(path: str) -> str:
    """The SQL name of the Delta table at ``path``."""
    return "delta.`" + path.replace("`", "``") + "`"


def latest_commit(spark: SparkSession, path: str) -> Row | None:
    """The newest entry of the table's history, or None when there is no table at ``path``."""
    try:
        return spark.sql(f"DESCRIBE HISTORY {delta_path(path)} LIMIT 1").collect()[0]
    except AnalysisException as error:
        if error.getCondition() in NO_TABLE:
            return None
        raise


def is_delta_table(spark: SparkSession, path: str) -> bool:
    return latest_commit(spark, path) is not None


def create_table_if_missing(
    spark: SparkSession, path: str, columns: Sequence[StructField], partitioned_by: Sequence[str]
) -> None:
    """An empty table with these columns at ``path``, unless one is already there."""
    fields = ", ".join(
        f"`{f.name}` {f.dataType.simpleString()}{'' if f.nullable else ' NOT NULL'}" for f in columns
    )
    partitions = ", ".join(f"`{name}`" for name in partitioned_by)
    spark.sql(
        f"CREATE TABLE IF NOT EXISTS {delta_path(path)} ({fields}) USING DELTA PARTITIONED BY ({partitions})"
    )
