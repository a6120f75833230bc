# SyncStore: `make demo` runs the system on embedded defaults; `make test` runs every check.
# Both create .venv and install the project into it when needed; nothing else is required.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# Options for the demo, e.g. `make demo DEMO_ARGS="--without streamlit --dagster-port 3001"`.
DEMO_ARGS ?=

demo: $(STAMP)
	$(BIN)/syncstore demo run $(DEMO_ARGS)

test: lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy syncstore connectors assets pipelines webhook_receiver streamlit_app bench demo

unit: $(STAMP)
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python -m bench.catalog_import --rows 10000

clean:
	rm -rf $(VENV) .syncstore .pytest_cache .mypy_cache .ruff_cache
