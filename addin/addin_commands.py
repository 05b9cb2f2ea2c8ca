"""``sop addin build`` and ``sop addin install``: the classic Excel add-in (free, BSD xlwings, no key);
``sop addin serve``: the same functions and buttons for Excel on the web and Mac (xlwings Server, opt-in).

``install`` does what ``xlwings addin install`` does for its own add-in: copy the ``.xlam`` into Excel's
XLSTART folder (loaded at every Excel start), then write the interpreter and PYTHONPATH the add-in's VBA
(xlwings ``RunPython`` / UDF server) must use into the add-in's user config file ``sopxl.conf``
(Windows ``%USERPROFILE%\\.sopxl\\sopxl.conf``, macOS ``~/Library/Containers/com.microsoft.Excel/Data/sopxl.conf``),
in xlwings' ``"KEY","value"`` format. Both paths can be given explicitly (and must be, on Linux).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
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


SERVER_PROJECT = Path(__file__).resolve().parent / "server"
"""The xlwings Server project: ``custom_functions``, ``custom_scripts`` (see :mod:`addin.officejs`), task pane."""
MANIFEST_ID = "8795209a-31cc-4f93-b730-639f4932e8b2"
"""sopxl's Office add-in id (xlwings Server's default id is shared by every xlwings Server install)."""
LICENCE_HELP = (
    "xlwings Server is not free for commercial use: set XLWINGS_LICENSE_KEY to your commercial xlwings licence "
    "key, or to 'noncommercial' if your use is noncommercial (PolyForm Noncommercial licence). The classic "
    "add-in (sop addin install) needs no key."
)


def server_environment(folder: Path, environ: Mapping[str, str]) -> dict[str, str]:
    """The environment of an xlwings Server process serving sopxl for the workbooks of ``folder``."""
    if not environ.get("XLWINGS_LICENSE_KEY", "").strip():
        raise ValueError(LICENCE_HELP)
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder: give the folder holding the workbooks and their ERP exports")
    pythonpath = os.pathsep.join(p for p in (str(REPO_ROOT), environ.get("PYTHONPATH", "")) if p)
    return {
        **environ,
        "PYTHONPATH": pythonpath,
        "XLWINGS_PROJECT_DIR": str(SERVER_PROJECT),
        "XLWINGS_PROJECT_NAME": "sopxl",
        "XLWINGS_FUNCTIONS_NAMESPACE": environ.get("XLWINGS_FUNCTIONS_NAMESPACE", "SOPXL"),
        "XLWINGS_ENABLE_EXAMPLES": "false",
        "XLWINGS_ENABLE_HOTRELOAD": "false",
        "XLWINGS_MANIFEST_ID_PROD": environ.get("XLWINGS_MANIFEST_ID_PROD", MANIFEST_ID),
        "SOPXL_SERVER_DIR": str(folder.resolve()),
    }


def serve_command_line(host: str, port: int, certfile: Path | None, keyfile: Path | None) -> list[str]:
    """uvicorn running xlwings Server's app (a fresh process: the licence key must be set before xlwings loads)."""
    line = [sys.executable, "-m", "uvicorn", "xlwings_server.main:app", "--host", host, "--port", str(port)]
    if certfile is not None and keyfile is not None:
        line += ["--ssl-certfile", str(certfile), "--ssl-keyfile", str(keyfile)]
    elif certfile is not None or keyfile is not None:
        raise ValueError("give both --certfile and --keyfile (Excel only loads add-ins over HTTPS)")
    return line


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

    @addin_app.command("serve")
    def serve_command(
        folder: Annotated[Path, typer.Option("--folder", help="Folder of the workbooks and their exports.")] = Path(),
        host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option("--port", help="Port.")] = 8000,
        certfile: Annotated[Path | None, typer.Option("--certfile", help="TLS certificate (PEM).")] = None,
        keyfile: Annotated[Path | None, typer.Option("--keyfile", help="TLS private key (PEM).")] = None,
    ) -> None:
        """Serve the SOP_ functions and S&OP buttons to Excel on the web and Mac (xlwings Server; needs a key)."""
        env = guarded(lambda: server_environment(folder, os.environ))
        line = guarded(lambda: serve_command_line(host, port, certfile, keyfile))
        console.print(f"serving sopxl for {env['SOPXL_SERVER_DIR']} on {host}:{port} (manifest: /manifest)")
        raise typer.Exit(subprocess.call(line, env=env))

    app.add_typer(addin_app, name="addin")
