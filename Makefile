# Two commands for a fresh machine: `make run` (local system on http://127.0.0.1:3000) and
# `make test`. Everything they need is installed from the pinned lock files here.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export PYTHONDONTWRITEBYTECODE := 1
STAGE ?= dev
PYTEST_ARGS ?=

.PHONY: install synth lint format test run demo ops bench loadtest deploy lock clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements/dev.lock
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check uv==0.13.8
	$(VENV)/bin/uv pip install --quiet --python $(PY) -r requirements/dev.lock
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# Skipped when no input of the app changed (infra/synth.py keeps a digest in cdk.out).
synth: install
	$(PY) infra/synth.py --stage $(STAGE)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy layers/shared/prakerja functions infra localcloud bench tools tests loadtest

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: install node_modules/.installed lint synth
	$(VENV)/bin/pytest -n 2 --dist loadgroup --no-loadscope-reorder --durations=15 $(PYTEST_ARGS)

run: install synth
	$(PY) -m localcloud

# A whole program cycle through the real API and workflows on the local runtime (docs/demo.md).
N ?= 2000
demo: install synth
	$(PY) -m tools.simulation --applicants $(N)

# Ops from the command line (docs/ops-cli.md): make ops ARGS="waves", ARGS="payouts --failed --stage staging"...
ARGS ?= --help
ops: install
	$(PY) -m tools.ops $(ARGS)

bench: install synth
	$(PY) bench/cold_import.py
	$(PY) bench/registration_requests.py

# Locust headless against HOST (staging: docs/load-test.md; default: `make run`'s runtime).
# SCENARIOS picks user classes (default: all three, mixed by weight); results as CSV.
HOST ?= http://127.0.0.1:3000
USERS ?= 50
SPAWN_RATE ?= 5
DURATION ?= 5m
SCENARIOS ?=
loadtest: install
	@results=loadtest/results/$$(date -u +%Y%m%dT%H%M%SZ) && mkdir -p $$results && \
	$(PY) -m locust -f loadtest/locustfile.py --headless --host $(HOST) -u $(USERS) -r $(SPAWN_RATE) -t $(DURATION) \
		--csv $$results/locust --only-summary $(SCENARIOS); \
	status=$$?; echo "CSV results in $$results/ (locust_stats.csv, locust_failures.csv, ...)"; exit $$status

# docs/deploy.md; the first deploy gives the partners' endpoints:
# make deploy STAGE=staging DEPLOY_ARGS="--parameters CivilRegistryUrl=https://... --parameters PaymentPartnersUrl=https://..."
DEPLOY_ARGS ?=
deploy: install node_modules/.installed
	npx cdk deploy -c stage=$(STAGE) $(DEPLOY_ARGS)

# Re-pin after editing requirements/*.in.
lock: install
	$(VENV)/bin/uv pip compile -q requirements/dev.in -o requirements/dev.lock --python-version 3.11
	$(VENV)/bin/uv pip compile -q requirements/lambda.in -o requirements/lambda.lock \
		--python-version 3.14 --python-platform aarch64-manylinux2014

clean:
	rm -rf build cdk.out .local .pytest_cache .mypy_cache .ruff_cache
