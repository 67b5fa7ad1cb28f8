# The two commands: `make run` serves the demo, `make test` checks everything.
# Both set up what they need on a fresh machine (Python venv, the embeds' build,
# Debian's chromium for browser tests, Debian's postgresql for database tests).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed
EMBED := consent_service/static/embed/consent.js consent_service/static/embed/consent-page.js \
	consent_service/static/embed/ideas.js
WIDGET_SOURCES := $(wildcard widget/src/*) widget/build.mjs widget/package.json

export CONSENT_ENV ?= development

.PHONY: run test lint typecheck pytest widget bench reliability system-deps clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

widget/node_modules/.package-lock.json: widget/package.json widget/package-lock.json
	cd widget && npm ci --no-audit --no-fund --loglevel=error

$(EMBED) &: widget/node_modules/.package-lock.json $(WIDGET_SOURCES)
	cd widget && node build.mjs

widget: $(EMBED)

system-deps:
	@bash deploy/install-system-deps.sh

run: $(STAMP) widget
	$(BIN)/consent-service db upgrade
	@# One demo account per role; passwords are printed the first time only.
	$(BIN)/consent-service users demo
	@echo "Demo: http://127.0.0.1:$(PORT)/   Admin: http://127.0.0.1:$(PORT)/admin/"
	$(BIN)/gunicorn -c deploy/gunicorn.conf.py --bind 127.0.0.1:$(PORT) 'consent_service:create_app()'

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) widget system-deps
	CONSENT_ENV=testing $(BIN)/pytest -n 2
	CONSENT_ENV=testing CONSENT_TEST_DATABASE=postgresql $(BIN)/pytest -n 2 --ignore=tests/browser \
		--ignore=tests/ops/test_instances.py  # brings its own PostgreSQL: once is enough

test: lint typecheck pytest

bench: $(STAMP) widget
	$(BIN)/python bench/run_all.py

# Load and faults on SQLite and PostgreSQL; prints figures (docs/reliability.md).
# RELIABILITY_ARGS=--short for the two-minute version.
reliability: $(STAMP) widget system-deps
	$(BIN)/pip install --quiet -e '.[test,reliability]'
	$(BIN)/python bench/reliability.py $(RELIABILITY_ARGS)

clean:
	rm -rf $(VENV) widget/node_modules consent_service/static/embed
