# The two commands of the README: `make run` and `make test`. Each sets itself up first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# uv through the interpreter: works right after `pip install uv`, whatever PATH holds.
UV := $(PYTHON) -m uv
export UV_PYTHON_DOWNLOADS := never
export UV_NO_PROGRESS := 1

STATIC := src/roomcast/web/static
FRONTEND_SOURCES := $(shell find frontend/src -type f 2>/dev/null) frontend/build.mjs frontend/package.json

.PHONY: run test lint fmt setup frontend conformance bench clean fuzz-api crashloop soak

run: setup
	$(VENV)/bin/roomcast serve

test: setup
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/mypy
	$(PY) -m pytest $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy

fmt: setup
	$(VENV)/bin/ruff format src tests bench
	$(VENV)/bin/ruff check --fix src tests bench

setup: $(VENV)/.installed $(STATIC)/app.js

# Python: a pinned, hashed requirements.lock installed with uv into .venv.
$(VENV)/.installed: requirements.lock pyproject.toml
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install -q uv
	$(UV) venv -q --allow-existing --python $(PYTHON) $(VENV)
	$(UV) pip sync -q --python $(PY) requirements.lock
	$(UV) pip install -q --python $(PY) --no-deps -e .
	touch $@

# Re-pin after changing dependencies in pyproject.toml.
requirements.lock:
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install -q uv
	$(UV) pip compile -q --universal --python-version 3.11 --extra dev --generate-hashes \
		pyproject.toml -o requirements.lock

# Front end: npm packages, bundled by esbuild into the package's static folder (not committed).
frontend/node_modules/.package-lock.json: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(STATIC)/app.js: frontend/node_modules/.package-lock.json $(FRONTEND_SOURCES)
	cd frontend && node build.mjs

frontend: $(STATIC)/app.js

# The official Engine.IO and Socket.IO conformance suites, from local checkouts:
#   make conformance EIO_SUITE=path/to/engine.io-protocol/test-suite SIO_SUITE=path/to/socket.io-protocol/test-suite
conformance: setup
	$(PY) -m roomcast.testing.run_conformance $(EIO_SUITE) $(SIO_SUITE)

# Benchmarks against the peers (Node socket.io, python-socketio), side by side; see
# docs/topics/performance.md. Not part of `make test`: it takes minutes and owns both cores.
bench/node_modules/.package-lock.json: bench/package.json bench/package-lock.json
	cd bench && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Peers that must not enter Roomcast's environment (Flask-SocketIO, gevent) and the chart's
# matplotlib: their own pinned, hashed bench/requirements.lock in bench/.venv.
bench/.venv/.installed: bench/requirements.lock
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install -q uv
	$(UV) venv -q --allow-existing --python $(PYTHON) bench/.venv
	$(UV) pip sync -q --python bench/.venv/bin/python bench/requirements.lock
	touch $@

# Re-pin after changing bench/requirements.in.
bench/requirements.lock:
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install -q uv
	$(UV) pip compile -q --generate-hashes --python-version 3.11 bench/requirements.in \
		-o bench/requirements.lock

bench: setup bench/node_modules/.package-lock.json bench/.venv/.installed
	$(PY) bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) bench/.venv frontend/node_modules bench/node_modules $(STATIC)/*.js $(STATIC)/*.css

# The HTTP API against its OpenAPI document with many generated requests (make test runs 15
# per operation); see docs/topics/reliability.md.
fuzz-api: setup
	ROOMCAST_FUZZ_EXAMPLES=500 $(PY) -m pytest -q -s tests/integration/test_api_fuzz.py

# kill -9 during a load of concurrent senders, CRASHLOOP_ITERATIONS times (make test runs 10);
# see docs/topics/reliability.md.
CRASHLOOP_ITERATIONS ?= 100
crashloop: setup
	ROOMCAST_CRASHLOOP_ITERATIONS=$(CRASHLOOP_ITERATIONS) $(PY) -m pytest -q -s \
		tests/integration/test_crash_recovery.py

# Soak: 2,000 connections chatting, joining, leaving and reconnecting for 20 minutes against
# one server, the memory slope measured over the second 10 (the first fill its bounded state);
# `make test` runs the same test for 60 s with 500. See docs/topics/reliability.md.
SOAK_SECONDS ?= 1200
SOAK_CONNECTIONS ?= 2000
soak: setup
	SOAK_SECONDS=$(SOAK_SECONDS) SOAK_CONNECTIONS=$(SOAK_CONNECTIONS) \
		$(PY) -m pytest -q -s tests/soak/test_soak.py
