# The two commands of the README:
#   make demo   run tipaudit on the embedded defaults and serve the console at http://127.0.0.1:8000
#   make test   install what the tests need and run lint, type check, import contracts and tests
# Both create .venv from the pinned lock files in requirements/.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q
BROWSER_DIR := tests/browser

.PHONY: demo test lint typecheck contracts pytest browser-deps lock clean migration system-deps

demo: $(VENV)/.main-installed
	$(BIN)/tipaudit demo

test: $(VENV)/.dev-installed browser-deps lint typecheck contracts pytest

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check src tests scripts bench
	$(BIN)/ruff format --check src tests scripts bench

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy

contracts: $(VENV)/.dev-installed
	$(BIN)/lint-imports

pytest: $(VENV)/.dev-installed browser-deps
	$(BIN)/pytest $(PYTEST_ARGS)

# PyICU (needed by rigour, for name transliteration) compiles against the ICU headers.
system-deps:
	@pkg-config --exists icu-uc 2>/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing the ICU headers (libicu-dev) for PyICU"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libicu-dev pkg-config g++ >/dev/null; \
	  else \
	    echo "tipaudit needs the ICU headers to build PyICU: sudo apt-get install libicu-dev pkg-config g++" >&2; exit 1; \
	  fi; }

$(BIN)/python: | system-deps
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "tipaudit needs Python 3.11 or newer: set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.main-installed: requirements/main.lock pyproject.toml | $(BIN)/python
	$(PIP) install --require-hashes -r requirements/main.lock
	$(PIP) install --no-deps -e .
	touch $@

$(VENV)/.dev-installed: requirements/dev.lock pyproject.toml | $(BIN)/python
	$(PIP) install --require-hashes -r requirements/dev.lock
	$(PIP) install --no-deps -e .
	touch $@ $(VENV)/.main-installed

# Browser tests drive Debian's Chromium (never a browser downloaded by a test tool) and inject
# axe-core from the npm registry, pinned in tests/browser/package-lock.json.
browser-deps: $(BROWSER_DIR)/node_modules/axe-core/axe.min.js
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "the browser tests need Debian's chromium: sudo apt-get install chromium" >&2; exit 1; \
	  fi; }

$(BROWSER_DIR)/node_modules/axe-core/axe.min.js: $(BROWSER_DIR)/package-lock.json
	npm ci --prefix $(BROWSER_DIR) --no-audit --no-fund --loglevel=error
	touch $@

# Regenerate the lock files after changing dependencies in pyproject.toml (needs uv).
lock:
	uv pip compile pyproject.toml --generate-hashes --python-version 3.11 -o requirements/main.lock
	uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 -o requirements/dev.lock

clean:
	rm -rf $(VENV) $(BROWSER_DIR)/node_modules .pytest_cache .mypy_cache .ruff_cache test-artifacts

# Write a new Alembic migration from the difference between the models and the current head.
migration: $(VENV)/.dev-installed
	@test -n "$(MSG)" || { echo 'usage: make migration MSG="what changed"' >&2; exit 2; }
	rm -f $(VENV)/migration.db
	$(BIN)/python -c 'import sys; from alembic import command; from tipaudit.storage.db import make_engine; from tipaudit.storage.migrate import alembic_config, upgrade; e = make_engine("sqlite:///$(VENV)/migration.db"); upgrade(e); from pathlib import Path; n = len(list(Path("src/tipaudit/storage/migrations/versions").glob("[0-9]*.py"))) + 1; command.revision(alembic_config(e), message=sys.argv[1], autogenerate=True, rev_id=f"{n:04d}")' "$(MSG)"
