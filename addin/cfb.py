"""A minimal, deterministic MS-CFB v3 (compound file) writer: the container of ``vbaProject.bin``.

Writes one storage level below the root (enough for a VBA project: ``PROJECT``, ``PROJECTwm``,
``VBA/dir``, ``VBA/_VBA_PROJECT`` and the module streams). Streams under 4,096 bytes go to the mini
stream as the format requires. Timestamps and CLSIDs are zero, siblings form a balanced binary search
tree in the format's name order (all nodes black), so the same streams always give the same bytes.
Read back in tests with ``olefile``.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field

SECTOR = 512
MINI_SECTOR = 64
MINI_CUTOFF = 4096
FREESECT = 0xFFFFFFFF
ENDOFCHAIN = 0xFFFFFFFE
FATSECT = 0xFFFFFFFD
NOSTREAM = 0xFFFFFFFF
_STORAGE, _STREAM, _ROOT = 1, 2, 5


@dataclass
class _Entry:
    name: str
    kind: int
    data: bytes = b""
    children: list[_Entry] = field(default_factory=list)
    sid: int = 0
    left: int = NOSTREAM
    right: int = NOSTREAM
    child: int = NOSTREAM
    start: int = ENDOFCHAIN
    size: int = 0


def _order(entry: _Entry) -> tuple[int, str]:
    """CFB sibling order: shorter names first, then by upper-cased name."""
    return (len(entry.name), entry.name.upper())


def _tree(children: list[_Entry]) -> int:
    """Link ``children`` (sorted) as a balanced BST; return the root's stream id."""
    if not children:
        return NOSTREAM
    mid = len(children) // 2
    node = children[mid]
    node.left = _tree(children[:mid])
    node.right = _tree(children[mid + 1 :])
    return node.sid


def _chain(fat: list[int], start: int, count: int) -> None:
    for i in range(count):
        fat[start + i] = start + i + 1 if i < count - 1 else ENDOFCHAIN


def write_cfb(streams: Mapping[str, bytes]) -> bytes:
    """A compound file holding ``streams`` keyed ``"NAME"`` or ``"STORAGE/NAME"`` (one level deep)."""
    root = _Entry("Root Entry", _ROOT)
    storages: dict[str, _Entry] = {}
    for path, data in streams.items():
        parts = path.split("/")
        if len(parts) > 2 or not all(parts) or any(len(p) > 31 for p in parts):
            raise ValueError(f"unsupported stream path {path!r}")
        parent = root
        if len(parts) == 2:
            if parts[0] not in storages:
                storages[parts[0]] = _Entry(parts[0], _STORAGE)
                root.children.append(storages[parts[0]])
            parent = storages[parts[0]]
        parent.children.append(_Entry(parts[-1], _STREAM, data, size=len(data)))

    entries = [root]
    queue = [root]
    while queue:
        node = queue.pop(0)
        node.children.sort(key=_order)
        for child in node.children:
            child.sid = len(entries)
            entries.append(child)
            queue.append(child)
    for node in entries:
        node.child = _tree(node.children)

    small = [e for e in entries if e.kind == _STREAM and e.size < MINI_CUTOFF]
    big = [e for e in entries if e.kind == _STREAM and e.size >= MINI_CUTOFF]
    mini = bytearray()
    minifat: list[int] = []
    for e in small:
        count = math.ceil(e.size / MINI_SECTOR)
        if count == 0:
            continue
        e.start = len(minifat)
        minifat.extend(range(e.start + 1, e.start + count))
        minifat.append(ENDOFCHAIN)
        mini += e.data.ljust(count * MINI_SECTOR, b"\0")

    n_dir = math.ceil(len(entries) * 128 / SECTOR)
    n_minifat = math.ceil(len(minifat) * 4 / SECTOR)
    n_mini = math.ceil(len(mini) / SECTOR)
    n_big = [math.ceil(e.size / SECTOR) for e in big]
    payload = n_dir + n_minifat + n_mini + sum(n_big)
    n_fat = 1
    while n_fat * (SECTOR // 4) < payload + n_fat:
        n_fat += 1
    if n_fat > 109:
        raise ValueError("compound file too large for this writer (needs a DIFAT)")

    fat = [FREESECT] * (n_fat * SECTOR // 4)
    for i in range(n_fat):
        fat[i] = FATSECT
    pos = n_fat
    dir_start = pos
    _chain(fat, pos, n_dir)
    pos += n_dir
    minifat_start = pos if n_minifat else ENDOFCHAIN
    _chain(fat, pos, n_minifat)
    pos += n_minifat
    root.start = pos if n_mini else ENDOFCHAIN
    root.size = len(mini)
    _chain(fat, pos, n_mini)
    pos += n_mini
    for e, count in zip(big, n_big, strict=True):
        e.start = pos
        _chain(fat, pos, count)
        pos += count

    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        b"\0" * 16,
        0x003E,
        0x0003,
        0xFFFE,
        9,
        6,
        b"\0" * 6,
        0,
        n_fat,
        dir_start,
        0,
        MINI_CUTOFF,
        minifat_start,
        n_minifat,
        ENDOFCHAIN,
        0,
    )
    header += struct.pack("<109I", *(list(range(n_fat)) + [FREESECT] * (109 - n_fat)))

    out = bytearray(header)
    out += struct.pack(f"<{len(fat)}I", *fat)
    directory = bytearray()
    for e in entries:
        name = e.name.encode("utf-16-le") + b"\0\0"
        directory += struct.pack(
            "<64sHBBIII16sIQQIQ",
            name,
            len(name),
            e.kind,
            1,
            e.left,
            e.right,
            e.child,
            b"\0" * 16,
            0,
            0,
            0,
            e.start if e.kind != _STORAGE else 0,
            e.size,
        )
    empty = struct.pack("<64sHBBIII16sIQQIQ", b"", 0, 0, 0, NOSTREAM, NOSTREAM, NOSTREAM, b"\0" * 16, 0, 0, 0, 0, 0)
    while len(directory) < n_dir * SECTOR:
        directory += empty
    out += directory
    minifat_bytes = struct.pack(f"<{len(minifat)}I", *minifat)
    out += minifat_bytes.ljust(n_minifat * SECTOR, b"\xff")
    out += bytes(mini).ljust(n_mini * SECTOR, b"\0")
    for e, count in zip(big, n_big, strict=True):
        out += e.data.ljust(count * SECTOR, b"\0")
    return bytes(out)
