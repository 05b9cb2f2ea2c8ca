"""Files only their owner may read: the local stores of ERP data, plans and audit trails.

SQLite creates a database (and its ``-journal``/``-wal`` files, which copy the database's mode) with the
process umask, usually 0644: readable by every local user. These helpers create the file 0600 first, so
the database, and every journal SQLite makes beside it, stays private. An existing file keeps its mode (a
team may share one on purpose).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path
from typing import Any

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) as 0700 folders; an existing folder is left as it is."""
    missing = []
    folder = path
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for part in reversed(missing):
        with contextlib.suppress(FileExistsError):
            os.mkdir(part, PRIVATE_DIR)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty with mode 0600 unless it exists (race-free: ``O_EXCL``)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return path
    os.close(fd)
    os.chmod(path, PRIVATE_FILE)  # the umask may have removed bits, never added any: make it exact
    return path


def connect_private(path: Path, **kwargs: Any) -> sqlite3.Connection:
    """``sqlite3.connect`` on a database file that is created 0600 when it does not exist yet."""
    private_file(Path(path))
    connection: sqlite3.Connection = sqlite3.connect(path, **kwargs)
    return connection
