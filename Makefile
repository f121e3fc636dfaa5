# Every target runs in .venv (built by `make setup` from pinned versions) with the Node tools from
# package-lock.json. `make contract` is the main job; `make test` is what CI runs.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export PATH := $(CURDIR)/$(BIN):$(CURDIR)/node_modules/.bin:$(PATH)
export REDOCLY_TELEMETRY := off
export REDOCLY_SUPPRESS_UPDATE_NOTICE := true
PYTEST := $(BIN)/python -m pytest
SEED ?=
FUZZ_EXAMPLES ?= 2000
CHAOS_ARGS ?=

.PHONY: setup regenerate check-drift lint lint-spec typecheck test unit contract fuzz mock bench chaos clean

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml generated/pyproject.toml constraints.txt
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is needed" if sys.version_info < (3, 11) else 0)'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=25"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]' -e ./generated
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

regenerate: setup
	$(BIN)/python scripts/regenerate.py

check-drift: setup
	$(BIN)/python scripts/check_drift.py

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	cd generated && ../$(BIN)/mypy --strict --cache-dir ../.mypy_cache/generated people_events_client

lint-spec: setup
	$(BIN)/openapi-spec-validator openapi.yaml
	redocly lint --format=stylish openapi.yaml
	spectral lint --fail-severity=warn openapi.yaml

typecheck: lint

unit: setup
	$(PYTEST) tests

# The main job: the contract suite against the embedded mock (CONTRACT_TARGET=served|live to change target; live
# needs the INFOBIP_* variables, see README). Ends with the contract summary; JUnit XML in reports/.
contract: setup
	$(PYTEST) contract_tests --junitxml=reports/junit.xml

# Deep schemathesis run: FUZZ_EXAMPLES cases per phase and mode, SEED=<n> to replay a run (the summary prints it).
fuzz: setup
	CONTRACT_MAX_EXAMPLES=$(FUZZ_EXAMPLES) CONTRACT_SEED=$(SEED) $(PYTEST) contract_tests/test_schemathesis.py \
		--junitxml=reports/fuzz-junit.xml

# `make test` never runs against live Infobip, even with CONTRACT_TARGET exported in the shell.
test: lint lint-spec check-drift
	env -u CONTRACT_TARGET $(PYTEST)

bench: setup
	$(BIN)/python scripts/bench_mock.py --client raw
	$(BIN)/python scripts/bench_mock.py --client httpx --rounds 1
	$(BIN)/python scripts/bench_client.py
	$(BIN)/python scripts/load_mock.py

chaos: setup
	$(BIN)/python scripts/chaos.py $(CHAOS_ARGS)

mock: setup
	$(BIN)/python -m people_events_mock --host 127.0.0.1 --port 8080

clean:
	rm -rf $(VENV) node_modules .mypy_cache .ruff_cache .pytest_cache reports .hypothesis
