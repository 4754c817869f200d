# Helsekort: `make run` and `make test` are all a fresh machine needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000

.DEFAULT_GOAL := help
LOCK   := requirements.txt
# One resolution for every machine: Linux, macOS and the Docker image, on Python 3.11.
COMPILE = $(BIN)/uv pip compile pyproject.toml requirements-build.in --extra dev --generate-hashes \
	--universal --python-version 3.11 --quiet --custom-compile-command "make lock" -o $(LOCK)

.PHONY: help install run test lint format typecheck openapi bench clean lock upgrade

help: ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

# Every install comes from the pinned, hashed lock: pip refuses any package or version it does not name.
# The project itself is then installed without dependencies, with the lock's setuptools.
$(STAMP): $(LOCK) pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP) ## create the virtual environment and install

run: $(STAMP) ## migrate, load CMS content and demo data, serve on port 8000 with the worker; Ctrl-C stops all
	$(BIN)/helsekort serve --host $(HOST) --port $(PORT) --prepare --with-worker

test: $(STAMP) ## run every test against a real PostgreSQL (embedded unless DATABASE_URL is set)
	$(BIN)/python -m pytest

lint: $(STAMP) ## ruff, formatting, mypy --strict and the import contracts (lint-imports)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict backend tests/support
	$(BIN)/lint-imports

format: $(STAMP) ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

openapi: $(STAMP) ## regenerate openapi/openapi.json
	$(BIN)/helsekort openapi

bench: $(STAMP) ## load benchmarks against a real server; prints req/s, p50, p99 and ratios
	$(BIN)/python -m bench

lock: $(STAMP) ## re-resolve requirements.txt after a change to pyproject.toml (keeps existing pins)
	$(COMPILE)
	$(MAKE) install

upgrade: $(STAMP) ## move every pin to the newest release in range; then run `.ci/run` and commit the lock
	$(COMPILE) --upgrade
	$(MAKE) install
	@echo "Lock upgraded. Now run everything (bash .ci/run), fix what broke, and commit requirements.txt."

clean: ## remove the virtual environment and local data
	rm -rf $(VENV) .data
