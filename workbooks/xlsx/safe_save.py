"""Replace a user's workbook so that a crash at any instant leaves the old file or the new one.

Sequence: refuse while Excel/LibreOffice has the file open; take a per-workbook OS lock (``flock``, so a
killed process never leaves a stale lock); note size/mtime; timestamped backup (last N kept); write a temp
file in the same folder; verify it; copy the original's mode; fsync; re-check the original did not change
meanwhile; ``os.replace``; fsync the folder.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from sop_functions import clock

from .errors import RefreshInProgressError, WorkbookChangedError, WorkbookError, WorkbookLockedError

BACKUP_DIR = "sopxl-backups"
FAULT_ENV = "SOPXL_FAULT"
"""Test hook: when set to a checkpoint name, the process SIGKILLs itself there (crash-safety tests)."""


def checkpoint(name: str) -> None:
    """A named point of the save sequence where the crash tests can kill the process."""
    if os.environ.get(FAULT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


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


@contextlib.contextmanager
def refresh_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``.~sopxl-lock.<name>`` beside the workbook (released on any exit)."""
    lock_path = path.with_name(f".~sopxl-lock.{path.name}")
    while True:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RefreshInProgressError(
                f"another sopxl refresh of {path.name} is running; wait for it to finish."
            ) from None
        try:
            same = os.fstat(fd).st_ino == os.stat(lock_path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the holder removed the lock file while we waited on it: lock the new one
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(lock_path)
        os.close(fd)


def make_backup(path: Path, keep: int) -> Path | None:
    """Copy the workbook to ``sopxl-backups/<stem>.<timestamp><suffix>`` and prune to the last ``keep``."""
    if keep <= 0:
        return None
    folder = path.parent / BACKUP_DIR
    folder.mkdir(exist_ok=True)
    stamp = clock.now().strftime("%Y%m%d-%H%M%S-%f")
    target = folder / f"{path.stem}.{stamp}{path.suffix}"
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".~sopxl-backup-", suffix=".tmp")
    os.close(fd)
    try:
        shutil.copy2(path, tmp)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    backups = sorted(folder.glob(f"{_glob_escape(path.stem)}.*{_glob_escape(path.suffix)}"))
    for old in backups[:-keep]:
        with contextlib.suppress(FileNotFoundError):
            old.unlink()
    return target


def _glob_escape(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[]" else c for c in text)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _temp_prefix(path: Path) -> str:
    return f".~sopxl-{path.name}-"


def safe_write(
    path: Path,
    write: Callable[[IO[bytes]], None],
    verify: Callable[[Path], None],
    *,
    backups: int = 5,
) -> Path | None:
    """Write a new version of ``path`` with ``write``, check it with ``verify``, then atomically replace.

    Returns the backup path (None when ``backups`` is 0).
    """
    path = Path(path)
    if not path.is_file():
        raise WorkbookError(f"{path} does not exist or is not a file.")
    check_not_open(path)
    with refresh_lock(path):
        for stale in path.parent.glob(_glob_escape(_temp_prefix(path)) + "*.tmp"):
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()  # left by a killed refresh; we hold the lock, so nobody is writing it
        before = os.stat(path)
        backup = make_backup(path, backups)
        checkpoint("backed-up")
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=_temp_prefix(path), suffix=".tmp")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "w+b") as fh:
                write(fh)
                fh.flush()
                checkpoint("written")
                os.fsync(fh.fileno())
            verify(tmp)
            checkpoint("verified")
            os.chmod(tmp, stat.S_IMODE(before.st_mode))
            check_not_open(path)
            now = os.stat(path)
            if (now.st_size, now.st_mtime_ns, now.st_ino) != (before.st_size, before.st_mtime_ns, before.st_ino):
                raise WorkbookChangedError(
                    f"{path.name} was changed by someone else during the refresh; nothing was replaced. Refresh again."
                )
            checkpoint("before-replace")
            os.replace(tmp, path)
            checkpoint("replaced")
            _fsync_dir(path.parent)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            raise
    return backup
