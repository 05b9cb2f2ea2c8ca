"""Hardened XML parsing: no DTDs, no entities, no external resources, bounded work.

OOXML never needs a DTD, so any part declaring one is refused: that single rule defeats entity-expansion
bombs ("billion laughs") and external-entity (XXE) reads before a byte is expanded. Small parts are parsed
with defusedxml; big worksheet parts are stream-parsed with :func:`hardened_expat`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import IO, NoReturn
from xml.etree.ElementTree import Element
from xml.parsers import expat

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from .errors import UnsafeWorkbookError, WorkbookError

CHUNK = 1 << 16
MAX_PROLOG = 1 << 20
"""Bytes of prolog (declaration, comments) allowed before the root element of a part."""


class _RootReached(Exception):
    pass


def hardened_expat(part: str) -> expat.XMLParserType:
    """An expat parser without namespace processing that refuses any DTD or entity declaration."""
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def refuse(*_args: object) -> NoReturn:
        raise UnsafeWorkbookError(
            f"{part} declares a DTD or entities (XML bomb / external entity risk); "
            "sopxl refuses such files. Re-save the workbook in Excel or restore a clean copy."
        )

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.buffer_text = True
    parser.ordered_attributes = True
    return parser


def check_prolog(part: str, stream: IO[bytes]) -> None:
    """Refuse a part whose prolog declares a DTD; a DTD can only appear before the root element."""
    parser = hardened_expat(part)

    def root(*_args: object) -> NoReturn:
        raise _RootReached

    parser.StartElementHandler = root
    seen = 0
    try:
        while seen < MAX_PROLOG:
            chunk = stream.read(CHUNK)
            if not chunk:
                parser.Parse(b"", True)
                return
            seen += len(chunk)
            parser.Parse(chunk, False)
    except _RootReached:
        return
    except expat.ExpatError:
        return  # malformed parts sopxl does not read are copied as they are; parts it reads are checked
    raise UnsafeWorkbookError(f"{part} has more than {MAX_PROLOG} bytes before its root element; refused.")


def parse_xml(part: str, data: bytes) -> Element:
    """Parse a small part with defusedxml (DTDs forbidden); malformed XML becomes a :class:`WorkbookError`."""
    try:
        return SafeET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise UnsafeWorkbookError(
            f"{part} declares a DTD or entities (XML bomb / external entity risk); sopxl refuses such files."
        ) from exc
    except SafeET.ParseError as exc:
        raise WorkbookError(
            f"{part} is not well-formed XML ({exc}); the workbook is damaged. "
            "Open and re-save it in Excel, or restore a backup."
        ) from exc


def stream_parse(part: str, chunks: Iterable[bytes], parser: expat.XMLParserType) -> None:
    """Feed chunks to a hardened parser, turning expat errors into a :class:`WorkbookError`."""
    try:
        for chunk in chunks:
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise WorkbookError(f"{part} is not well-formed XML ({exc}); the workbook is damaged.") from exc


def local(tag: str) -> str:
    """Local name of an ElementTree ``{ns}tag`` or a raw ``prefix:tag``."""
    return tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1]


_ESC_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_ESC_ATTR = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}
)


def esc_text(text: str) -> str:
    return text.translate(_ESC_TEXT)


def esc_attr(text: str) -> str:
    return text.translate(_ESC_ATTR)


START_TAG = r"(?:[^>\"']|\"[^\"]*\"|'[^']*')*"
"""Regex body of a start tag's attributes that tolerates ``>`` inside quoted values."""


def attr_re(name: str) -> re.Pattern[str]:
    return re.compile(r"(\s" + re.escape(name) + r"\s*=\s*)(\"[^\"]*\"|'[^']*')")
