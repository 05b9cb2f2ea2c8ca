"""Start-up: what `sop` loads before it runs a command (measured in bench/RESULTS.md, checked here).

`sop --help` and the command list must not load pandas, the engine or the forecasting stack; `sop refresh`
and `sop plan` (addin.pipeline) must not load the forecasting stack (statsforecast, statsmodels, scipy, dask),
which only `sop baseline` and `sop forecast-sheet --source` use.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("pandas", "numpy", "highspy", "statsforecast", "statsmodels", "scipy", "dask", "xlwings", "openpyxl")
FORECASTING = ("statsforecast", "statsmodels", "scipy", "dask", "coreforecast")


def _loaded(code: str, names: tuple[str, ...]) -> list[str]:
    probe = f"import sys\n{code}\nimport json\nprint(json.dumps([n for n in {list(names)!r} if n in sys.modules]))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


def test_the_command_line_starts_without_pandas_or_the_forecasting_stack() -> None:
    assert _loaded("import addin.cli", HEAVY) == []


def test_help_loads_nothing_heavy() -> None:
    code = "from addin.cli import app\ntry:\n    app(['--help'])\nexcept SystemExit:\n    pass"
    assert _loaded(code, HEAVY) == []


def test_refresh_and_plan_do_not_load_the_forecasting_stack() -> None:
    assert _loaded("import addin.pipeline, addin.report, workbooks.xlsx", FORECASTING) == []
