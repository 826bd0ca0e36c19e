# phoneunify: the project's vocabulary. Every target sets up what it needs, so `make demo` and
# `make test` work on a fresh machine.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Kafka and PostgreSQL addresses as deploy/infra.sh runs them (override to use your own servers).
INFRA_ENV = eval "$$(deploy/infra.sh env)"

.PHONY: help venv infra-up infra-down browser up down status migrate demo test test-unit lint eval bench chaos clean
help:
	@echo "make demo   set everything up and run the design document's journeys"
	@echo "make test   set everything up and run every test (unit, integration, end to end)"
	@echo "make up / make down   the whole stack in the background (logs in .local/logs)"
	@echo "make lint   ruff and mypy;  make eval / make bench   extraction accuracy and speed"
	@echo "make chaos  the fault suite: 20,000 webhooks, every process killed, Kafka and PostgreSQL crashed"

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

infra-up:
	deploy/infra.sh up

infra-down:
	deploy/infra.sh down

# Debian's chromium and chromium-driver for the console's browser tests (apt-get when missing).
browser:
	deploy/browser.sh

migrate: venv infra-up
	$(INFRA_ENV); $(BIN)/phoneunify migrate

up: venv infra-up
	$(INFRA_ENV); deploy/stack.sh start

down:
	deploy/stack.sh stop
	deploy/infra.sh down

status:
	deploy/infra.sh status || true
	deploy/stack.sh status || true

# Leaves the stack running so the console can be visited; `make down` stops it.
demo: up
	$(INFRA_ENV); deploy/stack.sh exec $(BIN)/phoneunify demo

test: venv infra-up browser lint
	$(INFRA_ENV); $(BIN)/pytest -q

test-unit: venv
	$(BIN)/pytest -q tests/unit

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy phoneunify ingest workers schema api cli

eval: venv
	$(BIN)/python bench/eval_extract.py

# Both benchmarks always run; the target fails if either missed its target. Figures of the
# pipeline benchmark also go to .local/bench/pipeline.json; its backfill ratio is the median of
# three rounds, ours and the null in turn (one pair swings with a shared host's speed).
# Extraction is timed as the image runs it, compiled with mypyc (bench/compiled_core.py builds it
# once per version of the sources, out of the source tree, and first checks that it gives exactly
# the outputs of the Python modules).
bench: venv infra-up
	rc=0; core=$$($(BIN)/python bench/compiled_core.py build) \
	  && $(BIN)/python bench/compiled_core.py check $$core \
	  && PHONEUNIFY_CORE=$$core $(BIN)/python bench/bench_extract.py || rc=1; \
	$(INFRA_ENV); $(BIN)/python bench/bench_pipeline.py --rounds 3 || rc=1; \
	exit $$rc

# The fault suite runs its own Kafka and PostgreSQL on free ports (it kills them): it needs no
# infra-up, and never touches the servers of `make up` or `make test`.
chaos: venv
	$(BIN)/python bench/chaos.py

clean: down
	rm -rf .local
