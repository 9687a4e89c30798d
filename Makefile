# Xinex — see README.md / docs. All targets install what is missing first (fast when nothing changed).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON   ?= python3
VENV     := .venv
PY       := $(VENV)/bin/python
UV       := $(VENV)/bin/uv
UV_VERSION ?= 0.13.9
STAMP    := .stamp-install
# Extra arguments: make test ARGS="-k heartbeats -x"
ARGS     ?=

.PHONY: help install web api-types bytecode system-deps run test bench lint migrate

help:
	@echo "make install   system packages (if missing), .venv, pinned Python deps, xinex (editable), the web app"
	@echo "make run       embedded default in the foreground (HTTP 8000, OTLP 4317/4318, data in ./var)"
	@echo "make test      provision PostgreSQL + Redis, run the test suite (ARGS=... for pytest)"
	@echo "make bench     run the benchmarks"
	@echo "make lint      ruff, the architecture contracts (import-linter) and mypy (docs/architecture.md)"
	@echo "make migrate   apply database migrations"
	@echo "make api-types regenerate frontend/openapi.json and the web app's API types after an API change"

install: $(STAMP) web

# The web app (frontend/ -> frontend/dist, served at /): npm ci + vite build, each only when its inputs changed.
web:
	@scripts/build-frontend.sh

# After any change to the API: the OpenAPI document the web app's types come from, and those types.
api-types: $(STAMP)
	$(PY) scripts/export_openapi.py frontend/openapi.json
	cd frontend && { [[ -d node_modules ]] || npm ci --no-audit --no-fund; } && npx --no-install openapi-typescript openapi.json -o src/api/schema.d.ts

system-deps:
	@scripts/install-system-deps.sh

$(PY): | system-deps
	$(PYTHON) -m venv $(VENV)

$(UV): | $(PY)
	$(PY) -m pip install -q --disable-pip-version-check "uv==$(UV_VERSION)"

$(STAMP): requirements.txt requirements-nodeps.txt pyproject.toml | system-deps $(UV)
	$(UV) pip install --python $(PY) --compile-bytecode --only-binary=lxml,xmlsec -r requirements.txt -e .
	$(UV) pip install --python $(PY) --compile-bytecode --no-deps -r requirements-nodeps.txt
	@touch $@

# Bytecode written ahead: where PYTHONDONTWRITEBYTECODE is set (as on some CI machines) every
# process would otherwise recompile every module it imports (~6 s of CPU per start of the app).
bytecode: install
	@$(PY) -m compileall -q -j 0 backend mobile_api tests bench > /dev/null

run: bytecode
	$(VENV)/bin/xinex run

test: bytecode
	scripts/test.sh $(ARGS)

bench: bytecode
	$(PY) -m bench $(ARGS)

lint: install
	$(VENV)/bin/ruff check backend mobile_api tests
	$(VENV)/bin/lint-imports --config pyproject.toml --no-logo
	$(VENV)/bin/mypy --config-file pyproject.toml

migrate: install
	$(VENV)/bin/xinex migrate
