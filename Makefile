# SyncStore: `make demo` runs the system on embedded defaults; `make test` runs every check.
# Both create .venv and install the project into it when needed; nothing else is required.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit bench clean lock lock-upgrade lock-check

LOCK := requirements-dev.lock
# Every dependency, dev tools and build tools included, pinned with hashes for all platforms (S10).
# uv keeps the pins already in the lock: only a changed pyproject.toml (or `make lock-upgrade`) moves them.
COMPILE = $(BIN)/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 \
	--generate-hashes --no-strip-extras --custom-compile-command "make lock" --quiet

# Installs exactly the lock (hash-checked), then the project itself without resolving anything.
$(STAMP): pyproject.toml $(LOCK)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

# After editing pyproject.toml's dependencies: re-lock (existing pins are kept where they still fit).
lock: $(STAMP)
	$(COMPILE) -o $(LOCK)

# Move every pin to the newest release the constraints allow (then run `make test`).
lock-upgrade: $(STAMP)
	$(COMPILE) --upgrade -o $(LOCK)

# CI: the lock must be what `make lock` would write from pyproject.toml (no diff). Needs the index.
lock-check: $(STAMP)
	@tmp=$$(mktemp -d); cp $(LOCK) $$tmp/lock; \
	$(COMPILE) -o $$tmp/lock && diff -u $(LOCK) $$tmp/lock; status=$$?; rm -rf $$tmp; \
	if [ $$status -ne 0 ]; then echo "$(LOCK) is stale: run make lock and commit it" >&2; exit 1; fi; \
	echo "$(LOCK) is current"

# Options for the demo, e.g. `make demo DEMO_ARGS="--without streamlit --dagster-port 3001"`.
DEMO_ARGS ?=

demo: $(STAMP)
	$(BIN)/syncstore demo run $(DEMO_ARGS)

test: lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy cli syncstore connectors assets pipelines webhook_receiver streamlit_app bench demo api

unit: $(STAMP)
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python -m bench.catalog_import --rows 10000

clean:
	rm -rf $(VENV) .syncstore .pytest_cache .mypy_cache .ruff_cache
