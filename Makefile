# Helsekort: `make run` and `make test` are all a fresh machine needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000

.DEFAULT_GOAL := help
.PHONY: help run test lint format typecheck openapi bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## create the virtual environment and install

run: $(STAMP) ## migrate, load CMS content and demo data, serve on port 8000
	$(BIN)/helsekort serve --host $(HOST) --port $(PORT) --prepare

test: $(STAMP) ## run every test against a real PostgreSQL (embedded unless DATABASE_URL is set)
	$(BIN)/python -m pytest

lint: $(STAMP) ## ruff, formatting and mypy --strict
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict backend

format: $(STAMP) ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

openapi: $(STAMP) ## regenerate openapi/openapi.json
	$(BIN)/helsekort openapi

bench: $(STAMP) ## load benchmarks against a real server; prints req/s, p50, p99 and ratios
	$(BIN)/python -m bench

clean: ## remove the virtual environment and local data
	rm -rf $(VENV) .data
