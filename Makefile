# The two commands: `make demo` and `make test`. Each installs what it needs into .venv itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: demo test lint typecheck unit dates system-deps node-deps bench bench-forecast pictures clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip==25.3
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,server]'
	rm -f $(VENV)/.installed-*
	touch $@

# demo/SOP.xlsx from the embedded Tryton ERP, and its S&OP meeting deck demo/SOP-pack.pptx
demo: $(STAMP)
	$(BIN)/sop demo

# System packages the tests use as real peers, from Debian: LibreOffice headless (the independent oracle
# that opens and recalculates our workbooks and reads the add-in's VBA; Impress converts the meeting pack to
# PDF), poppler's pdftoppm (renders that PDF in the tests), Carlito (metric-compatible with Calibri, the
# workbook's font: without it LibreOffice falls back to a wider font and every printed page is laid out
# differently), the PostgreSQL server (the tests start throwaway clusters), libfaketime (the suite runs again
# on other days: a test that passes only on some days fails the day it is written), Chromium (the Office.js
# task pane runs in it) and, where the machine has no Node.js of its own, Node.js and npm (for the Node
# packages below).
SYSTEM_PACKAGES := libreoffice-calc-nogui libreoffice-impress-nogui poppler-utils fonts-crosextra-carlito \
  postgresql faketime chromium $(if $(shell command -v npm),,nodejs npm)
system-deps:
	@if ! command -v soffice >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
	  || ! command -v faketime >/dev/null 2>&1 || ! command -v pdftoppm >/dev/null 2>&1 \
	  || ! ls /usr/share/fonts/truetype/crosextra/Carlito-Regular.ttf >/dev/null 2>&1 \
	  || ! ls /usr/lib/libreoffice/program/libsdlo.so >/dev/null 2>&1 || ! command -v chromium >/dev/null 2>&1 \
	  || ! command -v npm >/dev/null 2>&1; then \
	  echo "installing $(SYSTEM_PACKAGES) for the tests"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	    --no-install-recommends $(SYSTEM_PACKAGES) >/dev/null; fi

# Node packages the tests run (package.json: pinned, with why), exactly as package-lock.json locks them.
NODE_STAMP := node_modules/.installed-$(shell cksum package-lock.json | cut -d' ' -f1)
$(NODE_STAMP): package.json package-lock.json | system-deps
	npm ci --no-audit --no-fund --loglevel=error
	touch $@
node-deps: $(NODE_STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy sop_functions connectors workbooks addin bench docs/pictures.py

unit: $(STAMP) system-deps node-deps
	$(BIN)/pytest -q

# The whole suite again under libfaketime: 45 days on, and 20 minutes before the new year (the clock ticks on,
# so the run crosses midnight, a month end and a year end; FAKETIME_DONT_RESET: processes the tests start, such
# as the Tryton server, tick on from the suite's time instead of each starting again at 23:40). The kill tests
# are left out: they are about crashes, not dates, and calibrate themselves on the real clock (the
# crash-and-race harness and the writer discipline's kill tests run on a frozen clock anyway).
NOT_DATED := --deselect tests/test_xlsx_kill.py --deselect tests/test_crash_race.py --deselect tests/test_writer_discipline.py
dates: $(STAMP) system-deps node-deps
	faketime -f '+45d' $(BIN)/pytest -q -p no:cacheprovider $(NOT_DATED)
	FAKETIME_DONT_RESET=1 faketime -f "@$$(date +%Y)-12-31 23:40:00" $(BIN)/pytest -q -p no:cacheprovider $(NOT_DATED)

test: lint typecheck unit dates

bench: $(STAMP)
	$(BIN)/python -m bench --size SME-L --repeat 3 --write

# The statistical baseline's benchmarks, rewriting their blocks of bench/RESULTS.md: accuracy on M1 and Tourism
# monthly (the development sets), time vs bare AutoETS (CPU and wall), intermittent demand, family-level
# reconciliation; on 2 shared cores (load ~5) about 1 h 40: accuracy 20 min with M3, timing 45, intermittent 1,
# hierarchy 30. ACCEPTANCE=1 adds M3 monthly, the acceptance set: run it once, at the end of a change, never to tune.
bench-forecast: $(STAMP)
	$(BIN)/python -m bench.forecast_competitions --write $(if $(ACCEPTANCE),--acceptance)
	$(BIN)/python -m bench.forecast_timing --write
	$(BIN)/python -m bench.forecast_intermittent --write
	$(BIN)/python -m bench.forecast_hierarchy --write

# docs/img/*.png, the pictures in README.md and docs/excel.md: the csv demo workbook (seed 7) on a fixed
# clock, printed to PDF by LibreOffice headless and rendered by pdftoppm (docs/pictures.py)
pictures: $(STAMP) system-deps
	TZ=UTC SOPXL_NOW=2026-11-25T08:00:00+01:00 $(BIN)/python docs/pictures.py

clean:
	rm -rf $(VENV) node_modules demo .mypy_cache .pytest_cache .ruff_cache
