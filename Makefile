# sectorblog: two commands for a newcomer (`make run`, `make test`), plus a few for the team.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# Every process below reads them: without SITE_DOMAIN, the site advertises http://HOST:PORT.
export HOST PORT

# The first Python >= 3.12 that really runs: python3, python3.13, python3.12, then pyenv's copies
# (pyenv shims exist on PATH even when the version behind them is not selected).
PYTHON_CANDIDATES := python3 python3.13 python3.12 \
	$(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3.13) \
	$(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3.12)
find_python = $(firstword $(foreach p,$(PYTHON_CANDIDATES),$(shell $(p) -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1 && echo $(p))))

.PHONY: help run test test-e2e lint format bench bench-newsletter bench-export soak cluster-demo lock clean

help:
	@echo "make run    serve the demo site on http://$(HOST):$(PORT) (SQLite unless DATABASE_URL is set)"
	@echo "make test   run the test suite (against DATABASE_URL if set, SQLite otherwise)"
	@echo "make lint   ruff check, ruff format --check and lint-imports (the layers)"
	@echo "make bench  load-test the site against PostgreSQL (see README)"
	@echo "make bench-newsletter  one post to 1,000 then 10,000 subscribers through a loopback SMTP server"
	@echo "make bench-export  export and import a 1,000-post site with 10,000 then 50,000 comments: time, peak RSS"
	@echo "make soak   60 s of reading, commenting and a pingback flood; fails on 5xx or lost comments"
	@echo "make test-e2e      browser tests (Chromium)"
	@echo "make cluster-demo  primary + replica, Redis, two app servers and a worker on loopback"

$(VENV)/.installed: requirements.lock
	@py="$(call find_python)"; \
	if [ -z "$$py" ]; then echo "error: sectorblog needs Python >= 3.12 (tried: python3 python3.13 python3.12)" >&2; exit 1; fi; \
	echo "Using $$py ($$($$py --version))"; \
	[ -x "$(PY)" ] || $$py -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock
	@touch $@

# The demo runs in development mode (DEBUG=1) unless the environment says otherwise.
run: export DEBUG := $(if $(DEBUG),$(DEBUG),1)
run: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py ensure_demo_admin
	@echo "gunicorn listens on $(HOST):$(PORT), beside a task worker (Ctrl-C stops both)"
	@# On Ctrl-C, or when either process ends, stop the other. (The trap first clears itself:
	@# `trap 'kill 0' INT TERM` re-entered itself on its own TERM until bash crashed.)
	@trap 'trap "" INT TERM; trap - EXIT; kill $$(jobs -p) 2>/dev/null; wait' INT TERM EXIT; \
	$(PY) manage.py worker --no-reload --interval 1 & \
	$(VENV)/bin/gunicorn sectorblog.wsgi --bind $(HOST):$(PORT) --workers 2 --access-logfile - & \
	wait -n

# Two pytest-xdist workers (each with its own test database): the suite takes half the time of one
# process on a 2-core machine. TEST_WORKERS=0 runs it in one process, e.g. to use a debugger.
TEST_WORKERS ?= 2
test: $(VENV)/.installed
	$(VENV)/bin/pytest $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS))

test-e2e: $(VENV)/.installed
	$(VENV)/bin/pytest -m e2e

# 60 s of reading, comment posting and a pingback flood against a local gunicorn (issue 11, case 22).
soak: $(VENV)/.installed
	$(PY) bench/soak.py

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

format: $(VENV)/.installed
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Load test against PostgreSQL with gunicorn in production mode (see bench/run.py's docstring).
# DATABASE_URL picks the server (default postgres://postgres@127.0.0.1:5432/sectorblog_bench);
# BENCH_ARGS passes options, e.g. BENCH_ARGS="--fresh --seconds 5 --loadgen python".
bench: $(VENV)/.installed
	$(PY) bench/run.py $(BENCH_ARGS)

# One post delivered to 1,000 then 10,000 subscribers by the real worker through aiosmtpd on
# loopback: wall time, emails per second, the worker's peak RSS (bench/newsletter.py).
bench-newsletter: $(VENV)/.installed
	$(PY) bench/newsletter.py $(BENCH_ARGS)

# export_wxr, export_site, import_site and import_wxr on a 1,000-post site with 10,000 then 50,000
# comments, each in its own process: wall time and peak RSS (bench/export.py; SQLite unless
# DATABASE_URL is set). BENCH_ARGS="--skip wxr-import" leaves out the slow WXR import.
bench-export: $(VENV)/.installed
	$(PY) bench/export.py $(BENCH_ARGS)

# Regenerate the lock file after editing pyproject.toml (needs uv: `pip install uv`).
lock:
	uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.12 --universal -o requirements.lock

clean:
	rm -rf $(VENV) var/static var/e2e

# A primary + streaming replica, Redis, two app servers and a worker, all on loopback.
cluster-demo: $(VENV)/.installed
	$(PY) -m bench.cluster
