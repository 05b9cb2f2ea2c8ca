"""Write a new package from an old one plus a plan of changes, and verify the result before it is used.

Parts not in the plan are copied as raw compressed bytes (byte-identical); verification re-opens the new
file, tests every CRC, checks that each untouched part has the same CRC and sizes as before, and parses
every part that changed.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from .errors import WorkbookError
from .parts import Package
from .xmlsafe import parse_xml
from .zipio import STREAM_LEVEL, copy_raw, new_info

PartWriter = Callable[[IO[bytes]], None]


@dataclass
class Plan:
    """Changes to a package: whole new texts, streamed rewrites, removed parts, added parts."""

    replace: dict[str, bytes] = field(default_factory=dict)
    stream: dict[str, PartWriter] = field(default_factory=dict)
    remove: set[str] = field(default_factory=set)
    add: dict[str, bytes] = field(default_factory=dict)
    large: set[str] = field(default_factory=set)
    """Streamed parts that may exceed 2 GiB (written with zip64 headers)."""

    @property
    def changed(self) -> set[str]:
        return set(self.replace) | set(self.stream) | set(self.add)


def write_package(pkg: Package, plan: Plan, fh: IO[bytes]) -> None:
    """Write the planned package to ``fh``: same part order, untouched parts copied raw, new parts last."""
    with zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as dst:
        dst.comment = pkg.zf.comment
        for info in pkg.zf.infolist():
            name = info.filename
            if name in plan.remove:
                continue
            if name in plan.stream:
                part = new_info(name, info, STREAM_LEVEL)  # the big owned sheets: a cheaper deflate
                with dst.open(part, "w", force_zip64=name in plan.large) as out:
                    plan.stream[name](out)
            elif name in plan.replace:
                dst.writestr(new_info(name, info), plan.replace[name])
            else:
                copy_raw(pkg.zf, info, dst)
        for name, data in plan.add.items():
            dst.writestr(new_info(name), data)


def verify_package(
    pkg: Package,
    plan: Plan,
    tmp: Path,
    check: Callable[[zipfile.ZipFile], None],
    read_by_check: frozenset[str] = frozenset(),
) -> None:
    """Refuse the new file unless it is a sound zip equal to the old one outside the planned changes.

    Every part of the new file is read back and its CRC checked, once: ``read_by_check`` names the parts
    ``check`` reads to their end (zipfile checks the CRC there, a bad one raises), the others are read here.
    """
    try:
        with zipfile.ZipFile(tmp) as new:
            bad = _bad_crc(new, read_by_check)
            if bad is not None:
                raise WorkbookError(f"verification failed: part {bad} of the new file has a bad CRC.")
            old_infos = {i.filename: i for i in pkg.zf.infolist() if i.filename not in plan.remove}
            new_infos = {i.filename: i for i in new.infolist()}
            expected = set(old_infos) | set(plan.add)
            if set(new_infos) != expected:
                raise WorkbookError(f"verification failed: parts differ ({sorted(set(new_infos) ^ expected)[:5]}).")
            for name, old in old_infos.items():
                if name in plan.changed:
                    continue
                got = new_infos[name]
                if (got.CRC, got.file_size, got.compress_size) != (old.CRC, old.file_size, old.compress_size):
                    raise WorkbookError(f"verification failed: untouched part {name} changed.")
            for name in set(plan.replace) | set(plan.add):
                if name.lower().endswith((".xml", ".rels")):
                    parse_xml(name, new.read(name))
            check(new)
    except zipfile.BadZipFile as exc:
        raise WorkbookError(f"verification failed: the new file is not a valid zip ({exc}).") from exc


def _bad_crc(zf: zipfile.ZipFile, skip: frozenset[str]) -> str | None:
    """Like ``ZipFile.testzip`` for the parts not in ``skip``: the first whose CRC or header is bad."""
    for info in zf.infolist():
        if info.filename in skip:
            continue
        try:
            with zf.open(info) as fh:
                while fh.read(1 << 20):
                    pass
        except zipfile.BadZipFile:
            return info.filename
    return None
