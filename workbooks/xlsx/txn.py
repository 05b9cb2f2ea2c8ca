"""The writer discipline: how every sopxl command that changes a workbook (or a store beside it) does it.

::

    with writing(path, "collect") as txn:   # gate, lock, recover a killed writer's journal, note the file
        grid = read_forecast(path)          # every read of the workbook happens under the lock...
        ...                                 # ...so no other sopxl command can change it in between
        safe_write(path, write, verify, pending=[audit_record])   # commit (or FileTableWriter.commit())

:func:`writing` refuses a read-only file or one open in Excel/LibreOffice, passes the hostile-file gate,
takes the per-workbook ``flock`` (a second sopxl writer is refused, naming the holder), resolves a journal
left by a killed writer (:mod:`.journal`), removes stale temp files, then notes the file's :class:`Stamp`.
:func:`safe_write` replaces the file only if it is still the one read (optimistic check: size, mtime,
inode, and a SHA-256 of its parts), with the store records of ``pending`` journaled around the replace.
It joins the enclosing :func:`writing` of the same path; without one it opens its own around the write
(the refresh's old behaviour, where nothing was read before the lock).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import stat
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, ParamSpec, TypeVar

from workbooks.layout import FORECAST_TABLE, PLANNING_INPUTS, SOP_GRID_TABLE

from . import gate, journal
from .errors import WorkbookChangedError, WorkbookError
from .journal import Pending
from .safe_save import (
    check_not_open,
    checkpoint,
    fsync_dir,
    glob_escape,
    make_backup,
    refresh_lock,
    temp_prefix,
)

P = ParamSpec("P")
R = TypeVar("R")
INPUT_TABLES = (FORECAST_TABLE, SOP_GRID_TABLE, *(spec.name for spec in PLANNING_INPUTS))
"""Tables whose sheets the user types into (the S&OP grid: its agreed-supply rows): their parts are hashed in
full (every part's CRC is hashed)."""


@dataclass(frozen=True)
class Stamp:
    """Which version of a file a command read: size, mtime, inode and a digest of its content."""

    size: int
    mtime_ns: int
    inode: int
    digest: str

    @classmethod
    def of(cls, path: Path) -> Stamp | None:
        """The stamp of ``path`` now (None when it does not exist)."""
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return None
        return cls(st.st_size, st.st_mtime_ns, st.st_ino, content_digest(path))


def content_digest(path: Path) -> str:
    """SHA-256 of every part's name, CRC-32 and size, plus the full bytes of the user-input sheets and the
    shared strings; a file that is not a zip is hashed whole. Equal digests: equal content."""
    digest = hashlib.sha256()
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        with open(path, "rb") as fh:
            while block := fh.read(1 << 20):
                digest.update(block)
        return "raw:" + digest.hexdigest()
    with zf:
        infos = sorted(zf.infolist(), key=lambda i: i.filename)
        for info in infos:
            digest.update(f"{info.filename}\0{info.CRC:08x}\0{info.file_size}\n".encode())
        try:
            checked = gate.check(path)
        except WorkbookError:
            return "zip:" + digest.hexdigest()
        inputs = {checked.sheets[s] for t in INPUT_TABLES if (s := gate.table_sheet(checked, t)) in checked.sheets}
        inputs |= {p for p in checked.always_read if p.lower().endswith("sharedstrings.xml")}
        for part in sorted(inputs):
            with zf.open(part) as fh:
                while block := fh.read(1 << 20):
                    digest.update(block)
    return "xlsx:" + digest.hexdigest()


@dataclass
class WriteTxn:
    """One command's hold on one workbook: the lock is held and ``stamp`` is the version it read."""

    path: Path
    command: str
    stamp: Stamp | None
    """None: the file did not exist when the command began (``create=True``)."""
    recovered: str | None = None
    """What recovery did with a killed writer's journal (``completed``, ``rolled back``) or None."""
    replaces: bool = True
    """False: held only to read it consistently (``publish``); replacing it needs the writer's checks."""


_ACTIVE: dict[str, WriteTxn] = {}


def _key(path: Path) -> str:
    return str(path.expanduser().resolve())


def current(path: Path) -> WriteTxn | None:
    """The transaction this process holds on ``path``, if any."""
    return _ACTIVE.get(_key(path))


def check_writable(path: Path) -> None:
    """Refuse a read-only workbook: replacing it would silently defeat the user's protection."""
    mode = stat.S_IMODE(os.stat(path).st_mode)
    if not mode & stat.S_IWUSR or not os.access(path, os.W_OK):
        raise WorkbookError(
            f"{path.name} is read-only (mode {mode:04o}); sopxl does not replace read-only files. Make it "
            "writable (chmod u+w, or untick Read-only in its properties) if you mean to change it."
        )


@contextlib.contextmanager
def writing(
    path: str | os.PathLike[str], command: str, *, create: bool = False, replaces: bool = True
) -> Iterator[WriteTxn]:
    """Hold ``path`` for ``command`` (see the module docstring); re-entrant within one process.

    ``create``: the command writes the whole file (a new file, or one it overwrites without reading).
    ``replaces=False``: the command only reads the workbook and writes a store beside it (``publish``), so
    a read-only workbook, or one open in Excel, is fine; it is still held so no writer changes it meanwhile.
    """
    file = Path(path)
    if file.is_symlink():  # hold and replace the real file: replacing the link would leave it behind
        file = file.resolve()
    held = current(file)
    if held is not None:
        if replaces and not held.replaces:
            check_writable(file)
            check_not_open(file)
            held.replaces = True
        yield held
        return
    if file.exists():
        if not file.is_file():
            raise WorkbookError(f"{file} is not a file.")
        if replaces:
            check_writable(file)
        if not create:
            gate.check(file)  # hostile files are refused before any lock or journal is touched
    elif not create:
        raise WorkbookError(f"{file}: no such workbook (create one with `sop new` or adopt yours with `sop attach`)")
    elif not file.parent.is_dir():
        raise WorkbookError(f"cannot create {file}: folder {file.parent} does not exist")
    if replaces:
        check_not_open(file)
    with refresh_lock(file, command):
        recovered = journal.recover(file)
        for stale in file.parent.glob(glob_escape(temp_prefix(file)) + "*.tmp"):
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()  # left by a killed writer; we hold the lock, so nobody is writing it
        from workbooks.sku_detail import remove_stale_stages  # (imports pandas: only once a writer holds a file)

        remove_stale_stages(file)
        txn = WriteTxn(file, command, Stamp.of(file), recovered, replaces)
        _ACTIVE[_key(file)] = txn
        checkpoint("held")
        try:
            yield txn
        finally:
            _ACTIVE.pop(_key(file), None)


def holding(command: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorator: run a job whose first argument (or ``path=``) is a workbook under :func:`writing`."""

    def wrap(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def held(*args: P.args, **kwargs: P.kwargs) -> R:
            target = args[0] if args else kwargs["path"]
            assert isinstance(target, str | os.PathLike)
            with writing(target, command):
                return fn(*args, **kwargs)

        return held

    return wrap


def recover(path: str | os.PathLike[str]) -> str | None:
    """Resolve a killed writer's journal now, if no other sopxl command holds the workbook (readers of a
    store beside it call this first); returns what was done, None when there was nothing or it is busy."""
    file = Path(path)
    if current(file) is not None or not journal.journal_path(file).exists():
        return None
    try:
        with refresh_lock(file, "recover"):
            return journal.recover(file)
    except WorkbookError:
        return None


def _check_unchanged(txn: WriteTxn) -> None:
    """The optimistic check: the file still holds the content the command read (or is still absent).

    Size, mtime and inode tell whether it was touched; the digest decides, so a same-content rewrite (a
    sync tool re-saving it) passes and a same-size change within one mtime tick does not.
    """
    now = Stamp.of(txn.path)
    if txn.stamp is None:
        if now is None:
            return
        change = "was created by someone else"
    elif now is None:
        change = "was deleted or moved"
    elif now.digest == txn.stamp.digest:
        return
    else:
        change = "was changed by someone else"
    raise WorkbookChangedError(
        f"{txn.path.name} {change} while sopxl {txn.command} was working on it; nothing was replaced. "
        f"Run the {txn.command} again."
    )


def _new_file_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def safe_write(
    path: str | os.PathLike[str],
    write: Callable[[IO[bytes]], None],
    verify: Callable[[Path], None],
    *,
    backups: int = 5,
    pending: Sequence[Pending] = (),
    command: str = "refresh",
    create: bool = False,
) -> Path | None:
    """Write a new version of ``path`` with ``write``, check it with ``verify``, then atomically replace it.

    Joins the enclosing :func:`writing` of ``path`` (else holds one for ``command`` around the write).
    ``pending`` store records are journaled so the workbook and the stores change together or not at all.
    Returns the backup path (None when ``backups`` is 0 or the file is new).
    """
    with writing(path, command, create=create) as txn:
        return _replace(txn, write, verify, backups, pending)


def _replace(
    txn: WriteTxn,
    write: Callable[[IO[bytes]], None],
    verify: Callable[[Path], None],
    backups: int,
    pending: Sequence[Pending],
) -> Path | None:
    path = txn.path
    backup = make_backup(path, backups) if txn.stamp is not None else None
    checkpoint("backed-up")
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=temp_prefix(path), suffix=".tmp")
    tmp = Path(tmp_name)
    txn_id = journal.new_txn_id()
    journaled = False
    try:
        with os.fdopen(fd, "w+b") as fh:
            write(fh)
            fh.flush()
            checkpoint("written")
            os.fsync(fh.fileno())
        verify(tmp)
        checkpoint("verified")
        os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode) if txn.stamp is not None else _new_file_mode())
        check_not_open(path)
        _check_unchanged(txn)
        if pending:
            journal.write(path, txn_id, txn.command, tmp, pending)
            journaled = True
            checkpoint("journaled")
            for record in pending:
                record.prepare(txn_id)
            checkpoint("prepared")
        checkpoint("before-replace")
        os.replace(tmp, path)
        checkpoint("replaced")
        fsync_dir(path.parent)
    except BaseException:
        if journaled:
            journal.rollback(path, txn_id, pending, tmp)
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    if pending:
        try:
            for record in pending:
                journal.resolve(record.locator(), txn_id, applied=True)
            checkpoint("completed")
            journal.finish(path)
        except Exception as exc:
            raise WorkbookError(
                f"{path.name} was written, but recording it failed ({exc}); the record stays pending and the next "
                f"sopxl command on {path.name} completes it."
            ) from exc
    txn.stamp = Stamp.of(path)
    return backup
