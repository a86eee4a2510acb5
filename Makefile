# Two commands on a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export SHOPKEEP_VAR_DIR ?= $(CURDIR)/var

.PHONY: run test lint install clean agent-pyz

# The agent supports Python 3.9: its tests run there too (pyenv's 3.9.18 on this machine;
# AGENT_PY39 overrides). The venv is made on first use, so a fresh machine needs nothing else.
AGENT_PY39 ?= python3.9
VENV39 := .venv39

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
# Both passes use both cores: pytest-xdist gives each worker its own test database.
test: lint
	$(BIN)/pytest -n 2
	$(BIN)/pytest agent/tests
	$(MAKE) $(VENV39)/.installed
	@echo "== the agent's tests again on Python 3.9"
	PYENV_VERSION=$${PYENV_VERSION:-3.9.18} $(VENV39)/bin/pytest agent/tests
	@if [ -n "$$SHOPKEEP_TEST_DATABASE_URL" ]; then \
		echo "== again on PostgreSQL ($$SHOPKEEP_TEST_DATABASE_URL)"; \
		SHOPKEEP_DATABASE_URL="$$SHOPKEEP_TEST_DATABASE_URL" $(BIN)/pytest -n 2; \
	else \
		echo "== PostgreSQL pass skipped: set SHOPKEEP_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test to run it"; \
	fi

$(VENV39)/.installed: agent/pyproject.toml
	PYENV_VERSION=$${PYENV_VERSION:-3.9.18} $(AGENT_PY39) -m venv $(VENV39)
	$(VENV39)/bin/pip install --quiet -e './agent[test]'
	touch $@

# One file, Python 3.9+, no pip needed on the game server: agent/build/shopkeep-agent.pyz
agent-pyz:
	PYENV_VERSION=$${PYENV_VERSION:-3.9.18} $(PYTHON) agent/packaging/build_pyz.py --python $(AGENT_PY39)

clean:
	rm -rf $(VENV) $(VENV39) var .pytest_cache .ruff_cache agent/build
