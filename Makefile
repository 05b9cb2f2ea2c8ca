# The two commands: `make demo` and `make test`. Each installs what it needs into .venv itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: demo test lint typecheck unit system-deps bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip==25.3
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,server]'
	rm -f $(VENV)/.installed-*
	touch $@

demo: $(STAMP)
	$(BIN)/sop demo

# System packages the tests use as real peers, from Debian: LibreOffice headless (the independent oracle
# that opens and recalculates our workbooks) and the PostgreSQL server (the tests start throwaway clusters).
SYSTEM_PACKAGES := libreoffice-calc-nogui postgresql
system-deps:
	@if ! command -v soffice >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  echo "installing $(SYSTEM_PACKAGES) for the tests"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	    --no-install-recommends $(SYSTEM_PACKAGES) >/dev/null; fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy sop_functions connectors workbooks addin bench

unit: $(STAMP) system-deps
	$(BIN)/pytest -q

test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/python -m bench --size SME-L --repeat 3 --write

clean:
	rm -rf $(VENV) demo .mypy_cache .pytest_cache .ruff_cache
