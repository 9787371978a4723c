# fastblog — every command a newcomer needs. The venv is created on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 1
export HOST PORT WORKERS

.DEFAULT_GOAL := help
.PHONY: help run dev test lint format migrate seed bench bench-lab fuzz clean

help: ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The app alone (for `make run`), and the app with its development tools.
$(VENV)/.installed-app: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $@ $(VENV)/.installed-app

run: $(VENV)/.installed-app ## serve on http://$(HOST):$(PORT) (production mode, migrations applied)
	$(BIN)/fastblog db upgrade
	$(BIN)/fastblog serve --host $(HOST) --port $(PORT) --workers $(WORKERS)

dev: $(VENV)/.installed-app ## serve with auto-reload and the async lab (/lab) switched on
	$(BIN)/fastblog db upgrade
	LAB_ENABLED=true $(BIN)/fastblog serve --host $(HOST) --port $(PORT) --reload

migrate: $(VENV)/.installed-app ## upgrade the database to the latest migration
	$(BIN)/fastblog db upgrade

seed: $(VENV)/.installed-app ## add demo data (USERS=10 POSTS=100)
	$(BIN)/fastblog db upgrade
	$(BIN)/fastblog seed --users $(or $(USERS),10) --posts $(or $(POSTS),100)

test: $(VENV)/.installed-dev ## the whole suite (SQLite, and PostgreSQL when reachable)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

fuzz: $(VENV)/.installed-dev ## long property-based API run with schemathesis (FUZZ_EXAMPLES=300 per operation)
	FUZZ_EXAMPLES=$(or $(FUZZ_EXAMPLES),300) FUZZ_COVERAGE=1 \
		$(BIN)/python -m pytest tests/reliability/test_fuzz.py -s $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev ## ruff and mypy
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

format: $(VENV)/.installed-dev ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

bench: $(VENV)/.installed-dev ## load-test the routes against a bare-FastAPI ceiling (BENCH_SECONDS=10 WORKERS=1 DATABASE_URL=sqlite)
	$(BIN)/python -m bench.app_bench

bench-lab: $(VENV)/.installed-dev ## the async lab under load: throughput vs concurrency per mode (LAB_SECONDS=5)
	LAB_ENABLED=true $(BIN)/python -m bench.lab_bench

clean: ## remove the venv and caches (keeps the database)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
