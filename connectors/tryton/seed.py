"""The embedded demo ERP's build: a separate Tryton venv and a seeded SQLite database, both cached.

``python -m connectors.tryton.seed`` prebuilds both. The seeded database is keyed on the pinned Tryton
versions and the hash of ``seed_script.py``; it is built once (under a file lock) and only ever COPIED
afterwards. The demo's admin password is generated at build time and kept in a 0600 file in the cache,
handed to the connector in memory: it is never logged or written into a workbook.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sop_functions import clock

PINS: tuple[str, ...] = (
    "trytond==8.2.1",
    "trytond-stock==8.2.1",
    "trytond-sale==8.2.0",
    "trytond-purchase==8.2.0",
    "trytond-production==8.2.0",
    "trytond-production-routing==8.2.0",
    "trytond-production-work==8.2.0",
    "trytond-stock-supply==8.2.0",
    "trytond-stock-forecast==8.2.0",
    "proteus==8.2.0",
    # what the resolver picked on 2026-11-25, pinned so the demo is the same everywhere
    "trytond-account==8.2.1",
    "trytond-account-invoice==8.2.0",
    "trytond-account-invoice-stock==8.2.0",
    "trytond-account-product==8.2.0",
    "trytond-company==8.2.0",
    "trytond-country==8.2.0",
    "trytond-currency==8.2.0",
    "trytond-party==8.2.0",
    "trytond-product==8.2.0",
    "trytond-purchase-request==8.2.0",
    "lxml==6.1.3",
    "relatorio==1.0.0",
    "Genshi==0.7.12",
    "python-sql==1.8.1",
    "python-dateutil==4.0.0",
    "Werkzeug==3.1.9",
    "polib==1.2.0",
    "python-stdnum==2.2",
    "simpleeval==1.0.8",
    "defusedxml==0.7.1",
    "pwdlib==0.3.1",
    "argon2-cffi==25.1.0",
    "argon2-cffi-bindings==26.2.0",
    "cffi==2.1.1",
    "pycparser==3.12",
    "MarkupSafe==3.0.4",
    "puremagic==1.30",
    "tzdata==2026.6",
)
MODULES = ("stock", "sale", "purchase", "production", "production_work", "stock_supply", "stock_forecast")
DATABASE = "sopdemo"
SEED_SCRIPT = Path(__file__).with_name("seed_script.py")


def cache_root() -> Path:
    """``$SOPXL_CACHE_DIR/tryton`` or ``~/.cache/sopxl/tryton``."""
    base = os.environ.get("SOPXL_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "sopxl")
    return Path(base) / "tryton"


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part)
        h.update(b"\0")
    return h.hexdigest()[:16]


def venv_key() -> str:
    return _digest(sys.version.split()[0].encode(), "\n".join(PINS).encode())


def seed_today() -> dt.date:
    """The demo's "today" (sop_functions.clock, UTC: the demo company has no time zone of its own)."""
    return clock.today(dt.UTC)


def db_key() -> str:
    """Pins, seed script and the seed's month: the demo's history and open orders stay current (a new
    month seeds anew), while every run within a month reuses one database."""
    return _digest(venv_key().encode(), SEED_SCRIPT.read_bytes(), seed_today().strftime("%Y-%m").encode())


@dataclass(frozen=True)
class SeededDatabase:
    """A built, cached, never-modified seeded database and what it holds."""

    directory: Path
    venv: Path
    timings: dict[str, float]

    @property
    def sqlite_file(self) -> Path:
        return self.directory / f"{DATABASE}.sqlite"

    @property
    def manifest(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.directory / "manifest.json").read_text(encoding="utf-8"))
        return data

    def password(self) -> str:
        return (self.directory / "admin-password").read_text(encoding="utf-8").strip()

    @property
    def bin(self) -> Path:
        return self.venv / "bin"


class _Lock:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = path.open("w")

    def __enter__(self) -> _Lock:
        fcntl.flock(self.handle, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self.handle, fcntl.LOCK_UN)
        self.handle.close()


def ensure_venv(root: Path | None = None, quiet: bool = True) -> tuple[Path, float]:
    """The Tryton venv (created with the pins on first use); returns it and the seconds spent building."""
    root = root or cache_root()
    venv = root / f"venv-{venv_key()}"
    if (venv / ".complete").exists():
        return venv, 0.0
    started = time.monotonic()
    with _Lock(root / "venv.lock"):
        if (venv / ".complete").exists():
            return venv, 0.0
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check"]
        log_path = root / f"venv-{venv_key()}.log"
        with log_path.open("w", encoding="utf-8") as log_file:
            code = subprocess.run(
                [*pip, *(["--quiet"] if quiet else []), *PINS], stdout=log_file, stderr=subprocess.STDOUT
            ).returncode
        if code != 0:
            raise RuntimeError(f"installing Tryton into {venv} failed (exit {code}); see {log_path}")
        (venv / ".complete").write_text("\n".join(PINS) + "\n", encoding="utf-8")
    return venv, time.monotonic() - started


def write_config(path: Path, db_dir: Path, extra: dict[str, dict[str, str]] | None = None) -> None:
    sections: dict[str, dict[str, str]] = {
        "database": {"uri": "sqlite://", "path": str(db_dir)},
        "session": {"timeout": str(24 * 3600)},
    }
    for name, values in (extra or {}).items():
        sections.setdefault(name, {}).update(values)
    text = "".join(f"[{n}]\n" + "".join(f"{k} = {v}\n" for k, v in vals.items()) + "\n" for n, vals in sections.items())
    path.write_text(text, encoding="utf-8")


SeedProgress = Callable[[str, int | None, int | None], None]
"""``(what, done, total)`` of the first-run build, for a caller that shows its own progress display."""


def _run_seed(
    venv: Path, conf: Path, manifest: Path, show_progress: bool, on_progress: SeedProgress | None = None
) -> None:
    cmd = [
        str(venv / "bin" / "python"),
        str(SEED_SCRIPT),
        "--config",
        str(conf),
        "--database",
        DATABASE,
        "--manifest",
        str(manifest),
        "--today",
        seed_today().isoformat(),
    ]
    log_path = conf.parent / "seed.log"
    with log_path.open("w", encoding="utf-8") as log_file:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log_file, text=True)
        assert proc.stdout is not None
        if on_progress is not None:
            for line in proc.stdout:
                parts = line.split(maxsplit=3)
                if len(parts) >= 3 and parts[0] == "PROGRESS":
                    label = parts[3].strip() if len(parts) > 3 else ""
                    on_progress(f"Seeding the demo Tryton ERP: {label}", int(parts[1]), int(parts[2]))
        elif show_progress:
            from rich.progress import Progress

            with Progress(transient=True) as progress:
                task = progress.add_task("Seeding the demo Tryton ERP", total=None)
                for line in proc.stdout:
                    parts = line.split(maxsplit=3)
                    if len(parts) >= 3 and parts[0] == "PROGRESS":
                        label = parts[3].strip() if len(parts) > 3 else ""
                        progress.update(
                            task, completed=int(parts[1]), total=int(parts[2]), description=f"Seeding: {label}"
                        )
        else:
            for _line in proc.stdout:
                pass
        code = proc.wait()
    if code != 0:
        tail = log_path.read_text(encoding="utf-8")[-3000:]
        raise RuntimeError(f"seeding the demo Tryton database failed (exit {code}); log {log_path}:\n{tail}")


def ensure_seeded(
    show_progress: bool | None = None, root: Path | None = None, on_progress: SeedProgress | None = None
) -> SeededDatabase:
    """The cached seeded database, built (venv + trytond-admin + seed) on first use.

    The build's progress goes to ``on_progress`` when given, else to its own display (``show_progress``).
    """
    root = root or cache_root()
    if show_progress is None:
        show_progress = sys.stderr.isatty()
    if on_progress is not None and not (root / f"db-{db_key()}" / ".complete").exists():
        on_progress("Installing Tryton for the demo ERP (first run, a few minutes)", None, None)
    venv, venv_seconds = ensure_venv(root)
    final = root / f"db-{db_key()}"
    timings: dict[str, float] = {"venv": venv_seconds}
    if (final / ".complete").exists():
        return SeededDatabase(final, venv, timings)
    with _Lock(root / "db.lock"):
        if (final / ".complete").exists():
            return SeededDatabase(final, venv, timings)
        work = root / f"db-{db_key()}.building"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        conf = work / "trytond.conf"
        write_config(conf, work)
        (work / f"{DATABASE}.sqlite").touch()
        password_file = work / "admin-password"
        password_file.write_text(secrets.token_urlsafe(18) + "\n", encoding="utf-8")
        password_file.chmod(0o600)
        env = dict(os.environ, TRYTONPASSFILE=str(password_file))
        started = time.monotonic()
        if on_progress is not None:
            on_progress("Creating the demo Tryton database", None, None)
        admin = [str(venv / "bin" / "trytond-admin"), "-c", str(conf), "-d", DATABASE, "--all"]
        admin += ["--email", "admin@example.com", "-u", *MODULES, "--activate-dependencies"]
        with (work / "admin.log").open("w", encoding="utf-8") as log_file:
            subprocess.run(admin, check=True, env=env, stdout=log_file, stderr=subprocess.STDOUT)
        timings["admin"] = time.monotonic() - started
        started = time.monotonic()
        _run_seed(venv, conf, work / "manifest.json", show_progress, on_progress)
        timings["seed"] = time.monotonic() - started
        (work / "timings.json").write_text(json.dumps(timings), encoding="utf-8")
        (work / ".complete").touch()
        shutil.rmtree(final, ignore_errors=True)
        os.replace(work, final)
    return SeededDatabase(final, venv, timings)


def main() -> int:
    started = time.monotonic()
    seeded = ensure_seeded(show_progress=True)
    print(f"Tryton demo database ready in {time.monotonic() - started:.0f}s: {seeded.directory}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
