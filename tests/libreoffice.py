"""LibreOffice headless as an independent oracle: it opens a workbook, recalculates, exports every sheet."""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import pytest

requires_libreoffice = pytest.mark.skipif(
    shutil.which("soffice") is None, reason="LibreOffice headless (soffice) is not installed"
)

CSV_FILTER = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"
RECALC_ON_LOAD = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">
<value>0</value></prop></item>
</oor:items>
"""


def libreoffice_values(xlsx: Path, workdir: Path) -> dict[str, list[list[str]]]:
    """Every sheet's values as LibreOffice computes them (temp profile that recalculates on load)."""
    soffice = shutil.which("soffice")
    assert soffice
    profile = workdir / "lo-profile"
    (profile / "user").mkdir(parents=True, exist_ok=True)
    (profile / "user" / "registrymodifications.xcu").write_text(RECALC_ON_LOAD)
    out = workdir / "csv"
    cmd = [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", CSV_FILTER]
    done = subprocess.run([*cmd, "--outdir", str(out), str(xlsx)], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    sheets: dict[str, list[list[str]]] = {}
    prefix = f"{xlsx.stem}-"
    for path in sorted(out.glob(f"{xlsx.stem}-*.csv")):
        with open(path, newline="", encoding="utf-8") as f:
            sheets[path.stem[len(prefix) :]] = list(csv.reader(f))
    return sheets
