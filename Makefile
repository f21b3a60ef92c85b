# Every command the README and docs/ show. `make run` and `make test` install what they need first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Python 3.13 (the Lambda runtime's) where the machine has it, else 3.12+.
PYTHON ?= $(shell for p in python3.13 $$HOME/.pyenv/versions/3.13*/bin/python3.13 python3.12 python3; do \
	  if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; \
	  then command -v $$p; break; fi; done)
VENV := .venv
BIN := $(VENV)/bin
SAM_VENV := .venv-sam
LITELLM_VENV := .venv-litellm
SAM := $(SAM_VENV)/bin/sam
PORT ?= 8080
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help install install-app install-sam install-e2e install-browser screenshots run test unit lint format docs e2e sam-check bench bench-compare profile smoke clean

help:  ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

install: install-app install-sam  ## Create .venv (project + dev tools) and .venv-sam (SAM CLI)

install-app: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.12+ not found (set PYTHON=/path/to/python3.13)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip==26.3
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install-sam: $(SAM_VENV)/.installed
$(SAM_VENV)/.installed: layers/sam-cli-requirements.txt
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet -r layers/sam-cli-requirements.txt
	touch $@

run: install-app  ## Start the local stack (DynamoDB, emulator, proxy on PORT) with a demo key
	$(BIN)/cgw dev --port $(PORT)

test: install install-e2e install-browser lint  ## Lint, type-check, then every test (unit, integration, infra, Claude Code e2e)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/pytest

unit: install-app  ## Unit tests only (no servers)
	$(BIN)/pytest tests/unit

lint: install-app  ## ruff, mypy and the import-layer contract
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: install-app  ## Apply ruff's formatting and safe fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

docs: install-app  ## Regenerate docs/configuration.md from the Settings fields' descriptions
	$(BIN)/python -m codegateway.dev.config_doc docs/configuration.md

install-e2e: tests/e2e/node_modules/.installed  ## Install Claude Code (pinned in tests/e2e/package-lock.json) for the e2e tests
tests/e2e/node_modules/.installed: tests/e2e/package-lock.json
	@# Best effort: without npm (or the registry) the Claude Code tests skip, saying why.
	@if command -v npm >/dev/null 2>&1 && npm ci --no-audit --no-fund --silent --prefix tests/e2e; then \
	  touch $@; else echo "Claude Code not installed (npm missing or failed): its tests will be skipped"; fi

install-browser:  ## Debian's chromium for the dashboard's browser test (Playwright drives it; no browser download)
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

screenshots: install-app install-browser  ## Refresh docs/screenshots/ (the dashboard's pages) from the browser test
	CGW_UPDATE_SCREENSHOTS=1 $(BIN)/pytest tests/browser -q

e2e: install-app  ## Install Claude Code from npm and run the end-to-end tests with it
	npm ci --no-audit --no-fund --silent --prefix tests/e2e
	CLAUDE_BIN=$(CURDIR)/tests/e2e/node_modules/.bin/claude $(BIN)/pytest tests/e2e -m e2e

sam-check: install-app install-sam  ## Lint the SAM template (cfn-lint) and build it, without Docker
	SAM_CLI_TELEMETRY=0 $(SAM) validate --lint --region us-east-1
	PATH="$(CURDIR)/$(BIN):$$PATH" SAM_CLI_TELEMETRY=0 $(SAM) build

bench: install-app  ## Load bench (tiny + agent workloads, 100 streams x BENCH_SECONDS per store, cold start) -> JSON + docs/performance.md
	$(BIN)/python -m tests.load.bench $(BENCH_ARGS)

bench-compare: install-app $(LITELLM_VENV)/.installed  ## The bench plus the same overhead run against LiteLLM's proxy
	$(BIN)/python -m tests.load.bench --compare-litellm $(BENCH_ARGS)

$(LITELLM_VENV)/.installed: tests/load/litellm-requirements.txt
	$(PYTHON) -m venv $(LITELLM_VENV)
	$(LITELLM_VENV)/bin/pip install --quiet -r tests/load/litellm-requirements.txt
	touch $@

profile: install-app  ## CPU per request (DynamoDB and in-memory store, tiny and agent body) with py-spy flame graphs; PROFILE_ARGS=...
	$(BIN)/python -m tests.load.profile --flame tests/load/results/flame $(PROFILE_ARGS)

smoke: install-app  ## Check a deployed stack: make smoke URL=<PublicEndpoint> KEY=<key> [DIRECT_URL=<ProxyFunctionUrl>]
	@test -n "$(URL)" && test -n "$(KEY)" || { echo "usage: make smoke URL=https://... KEY=sk-cg-... [DIRECT_URL=...]"; exit 2; }
	@CGW_SMOKE_KEY="$(KEY)" $(BIN)/python tests/smoke/smoke.py --url "$(URL)" $(if $(DIRECT_URL),--direct-url "$(DIRECT_URL)")

clean:  ## Remove virtualenvs and build output
	rm -rf $(VENV) $(SAM_VENV) $(LITELLM_VENV) .aws-sam .pytest_cache .ruff_cache .mypy_cache
