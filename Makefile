# Two commands on a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export SHOPKEEP_VAR_DIR ?= $(CURDIR)/var

.PHONY: run test lint install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml agent/pyproject.toml
	$(BIN)/pip install --quiet -e . -e './agent[webrcon]'
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/shopkeep migrate --quiet
	$(BIN)/shopkeep demo
	$(BIN)/shopkeep serve --demo-agent

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests bench agent

# The suite runs on SQLite; with SHOPKEEP_TEST_DATABASE_URL set (CI) it runs again on PostgreSQL.
test: lint
	$(BIN)/pytest
	$(BIN)/pytest agent/tests
	@if [ -n "$$SHOPKEEP_TEST_DATABASE_URL" ]; then \
		echo "== again on PostgreSQL ($$SHOPKEEP_TEST_DATABASE_URL)"; \
		SHOPKEEP_DATABASE_URL="$$SHOPKEEP_TEST_DATABASE_URL" $(BIN)/pytest; \
	else \
		echo "== PostgreSQL pass skipped: set SHOPKEEP_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test to run it"; \
	fi

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
