"""Tests on one private stack with the Dagster daemon; a package, so the stack stops after them."""
