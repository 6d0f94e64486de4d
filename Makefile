# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Two test processes (files stay whole in one): the suite mostly waits on JVMs and services.
TEST_PROCESSES ?= 2

.DEFAULT_GOAL := help

.PHONY: help
help: ## Show the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found: install Python 3.11 (apt-get install python3.11 python3.11-venv), or make PYTHON=/path/to/python3.11" >&2; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); echo "error: $(PYTHON) -m venv failed: apt-get install python3.11-venv, then make again" >&2; exit 1; }
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

.PHONY: install
install: $(STAMP) ## Install system packages (redis, postgresql, java, maven, wrk, chromium), the venv, and the JVM jars
	infra/scripts/install-system-deps.sh
	$(BIN)/analytics stack jars

.PHONY: up
up: install ## Start Kafka (ANALYTICS_KAFKA_BROKERS=3: three nodes), Redis, the APIs, a stream worker, the Dagster UI and daemon (what is not running)
	$(BIN)/analytics stack up

.PHONY: down
down: ## Stop what `make up` started (and only that)
	@test -x $(BIN)/analytics && $(BIN)/analytics stack down || true

.PHONY: status
status: ## Show what runs and whether it is healthy
	$(BIN)/analytics stack status

.PHONY: demo
demo: up ## Install, start the stack, send a demo load and show where it landed
	$(BIN)/analytics demo

.PHONY: test
test: install ## Lint, then every test suite (unit, integration, slow) against real services
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/pytest -n $(TEST_PROCESSES) --dist loadgroup --no-loadscope-reorder

.PHONY: test-fast
test-fast: install ## Unit tests only (seconds)
	$(BIN)/pytest tests/unit -q

.PHONY: lint
lint: $(STAMP) ## ruff check and format check, and the import contracts (lint-imports)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

.PHONY: bench
bench: install ## Benchmarks that print figures and ratios against a baseline measured in the same run
	$(BIN)/python -m bench.ingest
	$(BIN)/python -m bench.dedup_memory
	$(BIN)/python -m bench.stream
	$(BIN)/python -m bench.etl
	$(BIN)/python -m bench.etl --steady
	$(BIN)/python -m bench.etl --judges
	$(BIN)/python -m bench.query
	$(BIN)/python -m bench.index
	$(BIN)/python -m bench.archive
	$(BIN)/python -m bench.dlq_redrive
	$(BIN)/python -m bench.hot_partition
	$(BIN)/python -m bench.broker_failover

.PHONY: clean
clean: down ## Stop the stack and delete local state (.local)
	rm -rf .local
