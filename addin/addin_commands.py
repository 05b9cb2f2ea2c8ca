"""``sop addin build`` and ``sop addin install``: the classic Excel add-in (free, BSD xlwings, no key).

``install`` does what ``xlwings addin install`` does for its own add-in: copy the ``.xlam`` into Excel's
XLSTART folder (loaded at every Excel start), then write the interpreter and PYTHONPATH the add-in's VBA
(xlwings ``RunPython`` / UDF server) must use into the add-in's user config file ``sopxl.conf``
(Windows ``%USERPROFILE%\\.sopxl\\sopxl.conf``, macOS ``~/Library/Containers/com.microsoft.Excel/Data/sopxl.conf``),
in xlwings' ``"KEY","value"`` format. Both paths can be given explicitly (and must be, on Linux).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Annotated

import typer

from . import build_xlam

REPO_ROOT = Path(__file__).resolve().parent.parent
XLSTART_ENV = "SOPXL_XLSTART"


def default_xlstart() -> Path | None:
    """Excel's per-user startup folder, or None where there is no desktop Excel (Linux)."""
    if os.environ.get(XLSTART_ENV):
        return Path(os.environ[XLSTART_ENV])
    if sys.platform.startswith("win"):
        return Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming")) / "Microsoft" / "Excel" / "XLSTART"
    if sys.platform == "darwin":
        return Path.home() / "Library/Group Containers/UBF8T346G9.Office/User Content.localized/Startup.localized/Excel"
    return None


def default_config() -> Path:
    """Where the add-in's VBA (``GetConfigFilePath`` with PROJECT_NAME = sopxl) reads its user config."""
    if sys.platform == "darwin":
        return Path.home() / "Library/Containers/com.microsoft.Excel/Data" / f"{build_xlam.PROJECT_NAME}.conf"
    home = Path(os.environ.get("USERPROFILE") or Path.home())
    return home / f".{build_xlam.PROJECT_NAME}" / f"{build_xlam.PROJECT_NAME}.conf"


def config_text(interpreter: str, pythonpath: str, platform: str = sys.platform) -> str:
    """xlwings config lines (``"KEY","value"``) for this interpreter and sopxl checkout."""
    key = "INTERPRETER_MAC" if platform == "darwin" else "INTERPRETER_WIN"
    lines = [(key, interpreter), ("PYTHONPATH", pythonpath)]
    for name, value in lines:
        if '"' in value or "\n" in value:
            raise ValueError(f"{name} {value!r} cannot contain quotes or line breaks")
    return "".join(f'"{name}","{value}"\n' for name, value in lines)


def install(
    xlstart: Path | None = None,
    config: Path | None = None,
    interpreter: str | None = None,
    pythonpath: str | None = None,
    addin: Path | None = None,
) -> tuple[Path, Path]:
    """Build (unless ``addin`` is given) and copy the add-in into ``xlstart``; write ``config``."""
    folder = xlstart or default_xlstart()
    if folder is None:
        raise ValueError("no Excel on this system: give the XLSTART folder with --xlstart (or $SOPXL_XLSTART)")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / build_xlam.ADDIN_NAME
    if addin is not None:
        shutil.copyfile(addin, target)
    else:
        build_xlam.build(target)
    conf = config or default_config()
    conf.parent.mkdir(parents=True, exist_ok=True)
    python = interpreter or (sys.executable.replace("python.exe", "pythonw.exe") if os.name == "nt" else sys.executable)
    conf.write_text(config_text(python, pythonpath or str(REPO_ROOT)), encoding="utf-8")
    return target, conf


def register(app: typer.Typer) -> None:
    """Add the ``sop addin`` command group to the CLI."""
    from .cli import console, guarded

    addin_app = typer.Typer(help="The Excel add-in (sopxl.xlam): build and install.", no_args_is_help=True)

    @addin_app.command("build")
    def build_command(
        out: Annotated[Path, typer.Option("--out", "-o", help="Folder or .xlam path.")] = Path("dist"),
    ) -> None:
        """Build sopxl.xlam from addin/xlam/ (reproducible: same sources, same bytes)."""
        path = guarded(lambda: build_xlam.build(out))
        console.print(f"built {path}")

    @addin_app.command("install")
    def install_command(
        xlstart: Annotated[Path | None, typer.Option("--xlstart", help="Excel's XLSTART folder.")] = None,
        config: Annotated[Path | None, typer.Option("--config", help="The add-in's config file.")] = None,
        interpreter: Annotated[str | None, typer.Option("--interpreter", help="Python for Excel to run.")] = None,
        pythonpath: Annotated[str | None, typer.Option("--pythonpath", help="Folder holding sopxl.")] = None,
    ) -> None:
        """Install sopxl.xlam into Excel's XLSTART folder and write its interpreter/PYTHONPATH config."""
        target, conf = guarded(lambda: install(xlstart, config, interpreter, pythonpath))
        console.print(f"installed {target}\nconfig    {conf}")
        console.print(
            "Restart Excel. Once, for the SOP_ functions: enable Trust Center > Macro Settings > "
            '"Trust access to the VBA project object model", then in the VBA editor (Alt+F11) run '
            "xlwings.ImportPythonUDFsToAddin with sopxl.xlam selected (docs/excel.md)."
        )

    app.add_typer(addin_app, name="addin")
