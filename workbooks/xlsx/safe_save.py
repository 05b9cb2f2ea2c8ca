"""Replace a user's workbook so that a crash at any instant leaves the old file or the new one.

Sequence: refuse while Excel/LibreOffice has the file open; take a per-workbook OS lock (``flock``, so a
killed process never leaves a stale lock); note size/mtime; timestamped backup (last N kept); write a temp
file in the same folder; verify it; copy the original's mode; fsync; re-check the original did not change
meanwhile; ``os.replace``; fsync the folder.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import re
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sop_functions import clock

from .errors import RefreshInProgressError, WorkbookLockedError

BACKUP_DIR = "sopxl-backups"
FAULT_ENV = "SOPXL_FAULT"
"""Test hook: when set to a checkpoint name, the process SIGKILLs itself there (crash-safety tests)."""
PAUSE_ENV = "SOPXL_PAUSE"
"""Test hook: when set to a checkpoint name, the process SIGSTOPs itself there, so a race test can run
another command at exactly that point and then SIGCONT it (no sleeps, no timing)."""


def checkpoint(name: str) -> None:
    """A named point of a writer where the crash and race tests can kill or pause the process."""
    if os.environ.get(FAULT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
    if os.environ.get(PAUSE_ENV) == name:
        os.kill(os.getpid(), signal.SIGSTOP)


def office_lock_files(path: Path) -> list[Path]:
    """Owner/lock files Excel and LibreOffice create beside a workbook they have open."""
    name = path.name
    candidates = [f"~${name}", f".~lock.{name}#"]
    if len(name) > 2:
        candidates.append(f"~${name[2:]}")  # Office shortens long names this way
    return [path.with_name(c) for c in candidates if path.with_name(c).exists()]


def check_not_open(path: Path) -> None:
    locks = office_lock_files(path)
    if locks:
        raise WorkbookLockedError(
            f"{path.name} is open in Excel or LibreOffice (lock file {locks[0].name}); close it and refresh "
            f"again. If it is not open anywhere, the lock is stale: delete {locks[0]} and retry."
        )


LOCK_PREFIX = ".~sopxl-lock."


def lock_path(path: Path) -> Path:
    return path.with_name(f"{LOCK_PREFIX}{path.name}")


@contextlib.contextmanager
def refresh_lock(path: Path, command: str = "refresh") -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``.~sopxl-lock.<name>`` beside the workbook (released on any exit).

    The lock file names the holder (``command pid``) so a refused command can say who is writing.
    """
    lock = lock_path(path)
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RefreshInProgressError(_busy_message(path, lock)) from None
        try:
            same = os.fstat(fd).st_ino == os.stat(lock).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the holder removed the lock file while we waited on it: lock the new one
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{command} {os.getpid()}\n".encode(), 0)
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(lock)
        os.close(fd)


def _busy_message(path: Path, lock: Path) -> str:
    try:
        command, _, pid = lock.read_text(encoding="utf-8", errors="replace").strip().partition(" ")
    except OSError:
        command, pid = "", ""
    if not re.fullmatch(r"[a-z][a-z-]{0,30}", command):
        command = "command"
    who = f" (pid {pid})" if pid.isdigit() else ""
    return f"another sopxl {command} of {path.name} is running{who}; wait for it to finish and retry."


def make_backup(path: Path, keep: int) -> Path | None:
    """Copy the workbook to ``sopxl-backups/<stem>.<timestamp><suffix>`` and prune to the last ``keep``."""
    if keep <= 0:
        return None
    folder = path.parent / BACKUP_DIR
    folder.mkdir(exist_ok=True)
    when = clock.now()
    target = folder / f"{path.stem}.{when.strftime('%Y%m%d-%H%M%S-%f')}{path.suffix}"
    while target.exists():  # a frozen or coarse clock: the next microsecond keeps names unique and ordered
        when += dt.timedelta(microseconds=1)
        target = folder / f"{path.stem}.{when.strftime('%Y%m%d-%H%M%S-%f')}{path.suffix}"
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".~sopxl-backup-", suffix=".tmp")
    os.close(fd)
    try:
        shutil.copy2(path, tmp)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    backups = sorted(folder.glob(f"{glob_escape(path.stem)}.*{glob_escape(path.suffix)}"))
    for old in backups[:-keep]:
        with contextlib.suppress(FileNotFoundError):
            old.unlink()
    return target


def glob_escape(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[]" else c for c in text)


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temp_prefix(path: Path) -> str:
    return f".~sopxl-{path.name}-"
