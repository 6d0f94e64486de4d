"""Real-time aggregates in Redis: windows, key layout, the atomic batch update, and reading them back."""
