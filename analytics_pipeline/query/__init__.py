"""The query service: metrics from Redis and the lakehouse, SQL over the lake, event lookup."""
