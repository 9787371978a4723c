# fastblog — every command a newcomer needs. The venv is created on first use, with the exact
# versions in uv.lock (`make lock` after editing the dependencies in pyproject.toml).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 1
FUZZ_EXAMPLES ?= 300
export HOST PORT WORKERS
export UV_PROJECT_ENVIRONMENT := $(VENV)
# uv from PATH, else one installed with pip beside the venv (python3 and pip are all it needs).
UV ?= $(or $(shell command -v uv 2>/dev/null),$(VENV)/.uv/bin/uv)
# What `make run` will use: the environment, else .env, else the built-in default.
DATABASE_URL_USED = $(or $(DATABASE_URL),$(shell sed -n 's/^DATABASE_URL=//p' .env 2>/dev/null),\
	$(shell sed -n 's/^DEFAULT_DATABASE_URL = "\(.*\)"/\1/p' src/fastblog/config.py))

.DEFAULT_GOAL := help
.PHONY: help run dev test lint format lock migrate seed bench bench-storm bench-lab cluster fuzz mutate validators clean

help: ## list the commands
	@USERS=$(USERS) POSTS=$(POSTS) FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) awk -F':.*## ' '/^[a-z-]+:.*## / { \
		text = $$2; out = ""; \
		while (match(text, /\$$\([A-Z_]+\)/)) { \
			out = out substr(text, 1, RSTART - 1) ENVIRON[substr(text, RSTART + 2, RLENGTH - 3)]; \
			text = substr(text, RSTART + RLENGTH) } \
		printf "  make %-10s %s\n", $$1, out text }' $(MAKEFILE_LIST)
	@echo "Settings: HOST=$(HOST) PORT=$(PORT) WORKERS=$(WORKERS) DATABASE_URL=$(DATABASE_URL_USED)"
	@echo "Change any for one run, e.g. make run PORT=9000 (the app's settings may also live in .env)."

$(VENV)/.uv/bin/uv:
	PIP_ROOT_USER_ACTION=ignore $(PYTHON) -m pip install --quiet --disable-pip-version-check \
		--target $(VENV)/.uv 'uv>=0.13'

$(BIN)/python: | $(UV)
	$(UV) venv --quiet --allow-existing --python $(PYTHON) $(VENV)

# The app alone (for `make run`), and the app with its development tools. --inexact keeps the
# tools that `make test` installed; the dev sync removes anything uv.lock does not list.
$(VENV)/.installed-app: pyproject.toml uv.lock | $(BIN)/python
	$(UV) sync --quiet --locked --inexact
	@touch $@

$(VENV)/.installed-dev: pyproject.toml uv.lock | $(BIN)/python
	$(UV) sync --quiet --locked --extra dev
	@touch $@ $(VENV)/.installed-app

run: $(VENV)/.installed-app ## serve on http://$(HOST):$(PORT) (production mode, migrations applied)
	$(BIN)/fastblog db upgrade
	$(BIN)/fastblog serve --host $(HOST) --port $(PORT) --workers $(WORKERS)

dev: $(VENV)/.installed-app ## serve with auto-reload and the async lab (/lab) switched on
	$(BIN)/fastblog db upgrade
	LAB_ENABLED=true $(BIN)/fastblog serve --host $(HOST) --port $(PORT) --reload

migrate: $(VENV)/.installed-app ## upgrade the database to the latest migration
	$(BIN)/fastblog db upgrade

seed: $(VENV)/.installed-app ## add the demo blog (once); USERS=… POSTS=… add generated load data instead
	$(BIN)/fastblog db upgrade
	$(BIN)/fastblog seed $(if $(USERS),--users $(USERS)) $(if $(POSTS),--posts $(POSTS))

# The suite runs in worker processes (pytest-xdist), one per core up to four (tests/conftest.py;
# PYTEST_XDIST_AUTO_NUM_WORKERS=N to choose). loadscope gives each module to one worker, so a
# module's servers (the HAProxy cluster, the fuzzing servers) start once; the browser tests are
# one unit (tests/conftest.py: ONE_WORK_UNIT), so Chromium and their servers start once. xdist hands
# out the modules largest first (by test count): that spreads the multi-process modules among
# the in-process ones. (Handing the costly ones out first, together, was 3 minutes slower: the
# cluster, Chromium and the fuzzing servers fought for the two cores.)
# Bytecode is cached even where the environment says not to (PYTHONDONTWRITEBYTECODE, set on
# some CI machines): the suite starts a few hundred Python processes (servers, CLI commands,
# process-pool workers), and each one compiled the app and its libraries from source again,
# 5 CPU-s instead of 2 for each process that imports the app.
test: $(VENV)/.installed-dev ## the whole suite (SQLite, and PostgreSQL when reachable)
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -m pytest -n auto --dist loadscope $(PYTEST_ARGS)

fuzz: $(VENV)/.installed-dev ## long property-based API run with schemathesis (FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) per operation)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) FUZZ_COVERAGE=1 \
		$(BIN)/python -m pytest tests/reliability/test_fuzz.py -s $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev ## ruff, mypy and the import contract (packages form a one-way chain)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(VENV)/.installed-dev ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

lock: | $(UV) ## update uv.lock after editing the dependencies in pyproject.toml (keeps other pins)
	$(UV) lock

bench: $(VENV)/.installed-dev ## load-test the routes against a bare-FastAPI ceiling (BENCH_SECONDS=10 WORKERS=1 DATABASE_URL=sqlite; SCALE=1m or 1k: on a blog of that size, seeded once and kept; CLUSTER=2: through HAProxy, 1 then 2 hosts)
ifdef CLUSTER
	CLUSTER=$(CLUSTER) $(BIN)/python -m bench.cluster_bench
else
	SCALE=$(SCALE) $(BIN)/python -m bench.app_bench
endif

bench-storm: $(VENV)/.installed-dev ## the server's event-loop lag during a storm of common-word searches vs idle (SCALE=1k; BENCH_STORM_SECONDS=20)
	SCALE=$(SCALE) $(BIN)/python -m bench.search_storm

bench-lab: $(VENV)/.installed-dev ## the async lab under load: throughput vs concurrency per mode (LAB_SECONDS=5)
	LAB_ENABLED=true $(BIN)/python -m bench.lab_bench

cluster: $(VENV)/.installed-dev ## the reference deployment on this machine: HAProxy on 127.0.0.1:8080, hosts on 127.0.0.2/.3 (Ctrl-C stops)
	$(BIN)/python -m bench.cluster

mutate: $(VENV)/.installed-dev ## mutation testing of the visibility, permission, escaping and limit modules (MODULES="posts.feeds throttle": only those)
	MUTATE_MODULES="$(MODULES)" nice -n 10 $(BIN)/mutmut run $(foreach module,$(MODULES),"fastblog.$(module).*")
	$(BIN)/mutmut results
	nice -n 10 $(BIN)/python -m tools.query_mutants $(MODULES)

# axe-core and the Nu Html Checker for tests/browser/test_validators.py, at the versions of
# tools/validators/package-lock.json. --ignore-scripts: vnu-jar's script would download a Java
# of its own; it runs on the system's (Debian: default-jre-headless).
VALIDATORS := .cache/validators
validators: $(VALIDATORS)/node_modules/.package-lock.json ## install the HTML and accessibility validators the browser tests run (needs npm; vnu needs Java)
$(VALIDATORS)/node_modules/.package-lock.json: tools/validators/package.json tools/validators/package-lock.json
	mkdir -p $(VALIDATORS)
	cp tools/validators/package.json tools/validators/package-lock.json $(VALIDATORS)/
	cd $(VALIDATORS) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error

clean: ## remove the venv and caches (keeps the database)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .cache
