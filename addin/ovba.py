"""Build a VBA project (``vbaProject.bin``) from module sources, per MS-OVBA, without Office.

The project carries source only: every module's ``MODULEOFFSET`` is 0 and the ``_VBA_PROJECT`` stream has
version ``0xFFFF``, which tells Office to ignore the (absent) compiled p-code and compile from source when
the file is opened. The project information and references (Excel, Office, stdole...) are copied from a
template project saved by Excel (xlwings' BSD quickstart add-in), so they are exactly what Excel writes;
the modules, the ``PROJECT`` stream's module lines and ``PROJECTwm`` are generated.

Read back in tests with ``oletools`` (olevba), which decompresses and lists the modules.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from .cfb import write_cfb

ModuleKind = Literal["module", "class", "document"]
_CHUNK = 4096


# -- MS-OVBA 2.4.1 compression ------------------------------------------------------------------------
def _copy_token_help(pos: int) -> tuple[int, int]:
    """(bit count of the offset, maximum length) for a copy token at ``pos`` within a chunk."""
    bits = max((pos - 1).bit_length(), 4)
    return bits, (0xFFFF >> bits) + 3


def _compress_chunk(chunk: bytes) -> bytes:
    body = bytearray()
    heads: dict[bytes, list[int]] = {}
    pos, n = 0, len(chunk)
    while pos < n:
        flag_at = len(body)
        body.append(0)
        flags = 0
        for bit in range(8):
            if pos >= n:
                break
            best_len, best_at = 0, 0
            if pos + 3 <= n:
                _bits, max_len = _copy_token_help(pos)
                limit = min(max_len, n - pos)
                for cand in reversed(heads.get(chunk[pos : pos + 3], [])[-64:]):
                    length = 3
                    while length < limit and chunk[cand + length] == chunk[pos + length]:
                        length += 1
                    if length > best_len:
                        best_len, best_at = length, cand
                        if length == limit:
                            break
            step = best_len if best_len >= 3 else 1
            if best_len >= 3:
                bits, _max = _copy_token_help(pos)
                token = ((pos - best_at - 1) << (16 - bits)) | (best_len - 3)
                body += struct.pack("<H", token)
                flags |= 1 << bit
            else:
                body.append(chunk[pos])
            for p in range(pos, pos + step):
                if p + 3 <= n:
                    heads.setdefault(chunk[p : p + 3], []).append(p)
            pos += step
        body[flag_at] = flags
    if len(body) > _CHUNK and len(chunk) == _CHUNK:
        return struct.pack("<H", (_CHUNK + 2 - 3) | (0b011 << 12)) + chunk  # stored raw (flag 0)
    if len(body) + 2 > _CHUNK + 2:
        raise ValueError("VBA source chunk does not compress into one MS-OVBA chunk")
    return struct.pack("<H", (len(body) + 2 - 3) | (0b011 << 12) | (1 << 15)) + bytes(body)


def compress(data: bytes) -> bytes:
    """MS-OVBA CompressedContainer of ``data`` (deterministic)."""
    out = bytearray(b"\x01")
    for start in range(0, len(data), _CHUNK):
        out += _compress_chunk(data[start : start + _CHUNK])
    return bytes(out)


def decompress(data: bytes) -> bytes:
    """Inverse of :func:`compress` (for reading the template's ``dir`` stream)."""
    if not data or data[0] != 1:
        raise ValueError("not an MS-OVBA compressed container")
    out = bytearray()
    pos = 1
    while pos < len(data):
        (header,) = struct.unpack_from("<H", data, pos)
        size, compressed = (header & 0x0FFF) + 3, header >> 15
        chunk, start = data[pos + 2 : pos + size], len(out)
        pos += size
        if not compressed:
            out += chunk[:_CHUNK]
            continue
        i = 0
        while i < len(chunk):
            flags = chunk[i]
            i += 1
            for bit in range(8):
                if i >= len(chunk):
                    break
                if not flags >> bit & 1:
                    out.append(chunk[i])
                    i += 1
                    continue
                (token,) = struct.unpack_from("<H", chunk, i)
                i += 2
                bits, _max = _copy_token_help(len(out) - start)
                offset, length = (token >> (16 - bits)) + 1, (token & (0xFFFF >> bits)) + 3
                for _ in range(length):
                    out.append(out[-offset])
    return bytes(out)


# -- project structure ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Module:
    name: str
    kind: ModuleKind
    source: str
    """The stored source: ``Attribute VB_Name = ...`` lines first, CRLF line ends."""


@dataclass(frozen=True)
class Template:
    """What is copied from an Excel-saved project: its info + references records and PROJECT lines."""

    records: tuple[tuple[int, bytes], ...]
    """PROJECTINFORMATION and PROJECTREFERENCES records (id, raw bytes), in order."""
    codepage: int
    project_lines: tuple[str, ...]


def _records(dir_stream: bytes) -> list[tuple[int, bytes]]:
    """(id, raw record bytes) of a decompressed dir stream, up to and excluding PROJECTMODULES."""
    out: list[tuple[int, bytes]] = []
    pos = 0
    while pos < len(dir_stream):
        rec_id, size = struct.unpack_from("<HI", dir_stream, pos)
        if rec_id == 0x000F:
            break
        length = 6 if rec_id == 0x0009 else size  # PROJECTVERSION: Reserved=4, then 6 bytes
        out.append((rec_id, dir_stream[pos : pos + 6 + length]))
        pos += 6 + length
    return out


def read_template(vba_project_bin: bytes) -> Template:
    """Pick the reusable parts out of an Excel-saved ``vbaProject.bin``."""
    import olefile  # type: ignore[import-untyped]

    ole = olefile.OleFileIO(io.BytesIO(vba_project_bin))
    try:
        dir_stream = decompress(ole.openstream("VBA/dir").read())
        project = ole.openstream("PROJECT").read()
    finally:
        ole.close()
    records = _records(dir_stream)
    codepage = next(struct.unpack_from("<H", raw, 6)[0] for rec_id, raw in records if rec_id == 0x0003)
    keep = []
    for line in project.decode(f"cp{codepage}").split("\r\n"):
        if line.startswith("[Workspace]"):
            break
        if not line.startswith(("Document=", "Module=", "Class=", "BaseClass=", "Package=")):
            keep.append(line)
    return Template(tuple(records), codepage, tuple(keep))


def _rec(rec_id: int, data: bytes) -> bytes:
    return struct.pack("<HI", rec_id, len(data)) + data


def _dir_stream(template: Template, modules: Sequence[Module], project: str) -> bytes:
    enc = f"cp{template.codepage}"
    out = bytearray()
    for rec_id, raw in template.records:
        out += _rec(0x0004, project.encode(enc)) if rec_id == 0x0004 else raw
    out += _rec(0x000F, struct.pack("<H", len(modules)))
    out += _rec(0x0013, struct.pack("<H", 0xFFFF))
    for m in modules:
        name, uname = m.name.encode(enc), m.name.encode("utf-16-le")
        out += _rec(0x0019, name) + _rec(0x0047, uname)
        out += _rec(0x001A, name) + _rec(0x0032, uname)
        out += _rec(0x001C, b"") + _rec(0x0048, b"")
        out += _rec(0x0031, struct.pack("<I", 0))
        out += _rec(0x001E, struct.pack("<I", 0))
        out += _rec(0x002C, struct.pack("<H", 0xFFFF))
        out += struct.pack("<HI", 0x0021 if m.kind == "module" else 0x0022, 0)
        out += struct.pack("<HI", 0x002B, 0)
    out += struct.pack("<HI", 0x0010, 0)
    return bytes(out)


def _project_stream(template: Template, modules: Sequence[Module], project: str) -> bytes:
    lines = [f'Name="{project}"' if line.startswith("Name=") else line for line in template.project_lines]
    while lines and not lines[-1]:
        lines.pop()
    at = next((i + 1 for i, line in enumerate(lines) if line.startswith("ID=")), 0)
    declared = []
    for m in modules:
        if m.kind == "document":
            declared.append(f"Document={m.name}/&H00000000")
        elif m.kind == "class":
            declared.append(f"Class={m.name}")
        else:
            declared.append(f"Module={m.name}")
    text = "\r\n".join([*lines[:at], *declared, *lines[at:]]) + "\r\n\r\n[Workspace]\r\n"
    text += "".join(f"{m.name}=0, 0, 0, 0, C\r\n" for m in modules)
    return text.encode(f"cp{template.codepage}")


def _projectwm(template: Template, modules: Sequence[Module]) -> bytes:
    out = bytearray()
    for m in modules:
        out += m.name.encode(f"cp{template.codepage}") + b"\0" + m.name.encode("utf-16-le") + b"\0\0"
    return bytes(out + b"\0\0")


def build_vba_project(template: Template, modules: Sequence[Module], project: str = "VBAProject") -> bytes:
    """``vbaProject.bin`` bytes holding ``modules`` as source (compiled by Office on first open)."""
    names = [m.name.lower() for m in modules]
    if len(set(names)) != len(names):
        raise ValueError("module names must be unique")
    streams = {
        "PROJECT": _project_stream(template, modules, project),
        "PROJECTwm": _projectwm(template, modules),
        "VBA/_VBA_PROJECT": struct.pack("<HHBH", 0x61CC, 0xFFFF, 0x00, 0x0000),
        "VBA/dir": compress(_dir_stream(template, modules, project)),
    }
    for m in modules:
        streams[f"VBA/{m.name}"] = compress(m.source.encode(f"cp{template.codepage}"))
    return write_cfb(streams)
