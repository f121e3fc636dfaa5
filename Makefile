# Every target runs in .venv (built by `make setup` from pinned versions) with the Node tools from
# package-lock.json. `make contract` is the main job; `make test` is what CI runs (.ci/run then adds Python 3.12
# and 3.13 through tox).
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

.PHONY: setup regenerate check-drift lint lint-spec typecheck test unit contract fuzz mock bench chaos clean \
	fresh docs dist fuzz-url mutants

setup: $(VENV)/.installed node_modules/.installed

# .venv is (re)installed when what pip installs changes: the content of these files, not their mtimes (a fresh clone
# has arbitrary mtimes, and `make regenerate` rewrites only files whose bytes change). The key names the stamp.
INSTALL_KEY := $(shell cat pyproject.toml generated/pyproject.toml constraints.txt 2>/dev/null | sha256sum | cut -c1-16)

$(VENV)/.installed: $(VENV)/.installed-$(INSTALL_KEY)
	touch $@

$(VENV)/.installed-$(INSTALL_KEY):
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is needed" if sys.version_info < (3, 11) else 0)'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=25"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]' -e ./generated
	rm -f $(VENV)/.installed-*
	touch $@

# npm enforces package.json's engines (engine-strict in .npmrc): the one Node version check.
node_modules/.installed: package.json package-lock.json .npmrc
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

regenerate: setup
	$(BIN)/python scripts/regenerate.py

# Every target that runs tests or checks code first makes sure generated/ was produced from the current
# openapi.yaml and codegen/ (a content hash recorded by `make regenerate`): it regenerates when they changed, or,
# with CI set, fails at once naming `make regenerate`. Regeneration may change generated/pyproject.toml: setup again.
fresh: setup
	$(BIN)/python scripts/regenerate.py --if-stale
	@$(MAKE) --no-print-directory setup

check-drift: setup
	$(BIN)/python scripts/check_drift.py

# Lint = ruff (style) + typecheck; tox's `lint` and `type` environments run exactly these commands.
lint: typecheck
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Type checking = mypy --strict on the hand-written code (pyproject.toml's [tool.mypy]) and on generated/.
typecheck: fresh
	$(BIN)/mypy
	$(BIN)/mypy --strict --config-file generated/pyproject.toml --cache-dir .mypy_cache/generated \
		generated/people_events_client

lint-spec: setup
	$(BIN)/openapi-spec-validator openapi.yaml
	redocly lint --format=stylish openapi.yaml
	spectral lint --fail-severity=warn openapi.yaml

unit: fresh
	$(PYTEST) tests

# The main job: the contract suite against the embedded mock (CONTRACT_TARGET=served|live to change target; live
# needs the INFOBIP_* variables, see README). Ends with the contract summary; JUnit XML in reports/.
contract: fresh
	$(PYTEST) contract_tests --junitxml=reports/junit.xml

# Deep schemathesis run: FUZZ_EXAMPLES cases per phase and mode, SEED=<n> to replay a run (the summary prints it).
fuzz: fresh
	CONTRACT_MAX_EXAMPLES=$(FUZZ_EXAMPLES) CONTRACT_SEED=$(SEED) $(PYTEST) contract_tests/test_schemathesis.py \
		--junitxml=reports/fuzz-junit.xml

# Our schemathesis configuration and checks against any server: make fuzz-url URL=<base URL> KEY=<API key> [SEED=<n>].
# The key is read from the environment by contract_tests/fuzz_url.py, never echoed.
fuzz-url: setup
	@test -n "$(URL)" || { echo "usage: make fuzz-url URL=<base URL> KEY=<API key> [SEED=<n>]"; exit 2; }
	$(BIN)/python -m contract_tests.fuzz_url --url "$(URL)" $(if $(SEED),--seed $(SEED))

# The contract suite in live mode against the independent server, correct and every variant: prints the table.
# VARIANTS="created-200 no-limit" runs only those.
mutants: setup
	$(BIN)/python -m contract_tests.independent_server.matrix $(foreach v,$(VARIANTS),--variant $(v))

# `make test` never runs against live Infobip, even with CONTRACT_TARGET exported in the shell.
test: lint lint-spec check-drift
	env -u CONTRACT_TARGET $(PYTEST)

bench: fresh
	$(BIN)/python scripts/bench_mock.py --client raw
	$(BIN)/python scripts/bench_mock.py --client httpx --rounds 1
	$(BIN)/python scripts/bench_client.py
	$(BIN)/python scripts/load_mock.py
	$(BIN)/python scripts/bench_delivery.py
	$(BIN)/python scripts/bench_outbox.py

# people-events send: sustained rate (20,000 rows, 100 ms latency, with and without 5% faults), 10^6-row dry run.
.PHONY: bench-delivery
bench-delivery: setup
	$(BIN)/python scripts/bench_delivery.py $(BENCH_DELIVERY_ARGS)

# Outbox: enqueue latency (SQLite, PostgreSQL), drain rate (1 drainer; 3 sharing Redis), a crash run (BENCHMARKS.md).
.PHONY: bench-outbox
bench-outbox: fresh
	$(BIN)/python scripts/bench_outbox.py $(BENCH_OUTBOX_ARGS)

chaos: fresh
	$(BIN)/python scripts/chaos.py $(CHAOS_ARGS)

mock: setup
	$(BIN)/python -m people_events_mock --host 127.0.0.1 --port 8080

# The HTML API reference of openapi.yaml (Redocly), one self-contained file: docs/reference.html.
docs: setup
	$(BIN)/python scripts/build_docs.py docs/reference.html

# sdist + wheel of the client (generated/) and of people-events-mock, checked by `twine check --strict`: dist/.
dist: fresh
	rm -rf dist
	$(BIN)/python scripts/build_dist.py dist

clean:
	rm -rf $(VENV) node_modules .mypy_cache .ruff_cache .pytest_cache reports .hypothesis dist docs/reference.html
