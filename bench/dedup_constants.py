"""Figures shared by the dedup memory benchmark and its report."""

PROJECT = "acme-shop"
TTL_S = 86_400
PENDING_TTL_S = 15  # a claim's TTL: 2 x the default 5 s produce timeout + 5 s, as the service derives it
DAY_S = 86_400
HOURS = 24
RATES = (1_000, 10_000, 100_000, 1_000_000)
INTSET_FILL = 384  # mean members per intset shard; Redis converts a set past set-max-intset-entries (512)
GB = 10**9
