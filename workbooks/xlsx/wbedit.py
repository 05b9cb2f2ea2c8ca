"""Text-level edits of small package parts (workbook.xml, its rels, [Content_Types].xml, pivot caches).

These parts hold the user's own entries; re-serialising them with an XML library would reorder
namespaces and attributes. Editing the text keeps every original entry byte-identical: entries are only
inserted before a closing tag, removed whole, or have one attribute set.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .errors import WorkbookError
from .xmlsafe import START_TAG, attr_re, esc_attr

_ATTR = re.compile(r"([\w:.-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")

CALCPR_FOLLOWERS = (
    "oleSize",
    "customWorkbookViews",
    "pivotCaches",
    "smartTagPr",
    "smartTagTypes",
    "webPublishing",
    "fileRecoveryPr",
    "webPublishObjects",
    "extLst",
)
"""Elements that follow ``<calcPr>`` in CT_Workbook's sequence: a new calcPr goes before the first."""


def decode(part: str, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WorkbookError(f"{part} is not UTF-8; re-save the workbook in Excel and retry.") from exc


def _tag(local: str, closing: bool = False) -> re.Pattern[str]:
    if closing:
        return re.compile(r"</((?:[\w.-]+:)?)" + local + r"\s*>")
    return re.compile(r"<((?:[\w.-]+:)?)" + local + r"\b(" + START_TAG + r")>")


def attributes(start_tag: str) -> dict[str, str]:
    return {m.group(1): m.group(2) if m.group(2) is not None else m.group(3) for m in _ATTR.finditer(start_tag)}


def insert_children(part: str, text: str, container: str, build: Callable[[str], str]) -> str:
    """Insert ``build(prefix)`` just before ``</container>`` (``prefix`` is the container's, e.g. ``"x:"``)."""
    closing = list(_tag(container, closing=True).finditer(text))
    if closing:
        m = closing[-1]
        return text[: m.start()] + build(m.group(1)) + text[m.start() :]
    empty = re.compile(r"<((?:[\w.-]+:)?)" + container + r"\b(" + START_TAG + r")/>").search(text)
    if empty is None:
        raise WorkbookError(f"{part} has no <{container}> element; the workbook is damaged.")
    prefix = empty.group(1)
    opened = f"<{prefix}{container}{empty.group(2)}>"
    return text[: empty.start()] + opened + build(prefix) + f"</{prefix}{container}>" + text[empty.end() :]


def remove_elements(text: str, element: str, match: Callable[[dict[str, str]], bool]) -> str:
    """Remove whole empty elements ``<element .../>`` (or ``<element ...></element>``) that ``match``."""
    pattern = re.compile(
        r"<((?:[\w.-]+:)?)" + element + r"\b(" + START_TAG + r")(?:/>|>\s*</(?:[\w.-]+:)?" + element + r"\s*>)"
    )
    return pattern.sub(lambda m: "" if match(attributes(m.group(2))) else m.group(0), text)


def set_attribute(text: str, element: str, name: str, value: str) -> str:
    """Set ``name="value"`` on the first ``<element>`` start tag (added if absent)."""
    m = _tag(element).search(text) or re.compile(r"<((?:[\w.-]+:)?)" + element + r"\b(" + START_TAG + r")/>").search(
        text
    )
    if m is None:
        raise WorkbookError(f"no <{element}> element to set {name} on.")
    tag = m.group(0)
    existing = attr_re(name).search(tag)
    if existing:
        new_tag = tag[: existing.start(2)] + f'"{esc_attr(value)}"' + tag[existing.end(2) :]
    else:
        head = len(f"<{m.group(1)}{element}")
        new_tag = tag[:head] + f' {name}="{esc_attr(value)}"' + tag[head:]
    return text[: m.start()] + new_tag + text[m.end() :]


def ensure_full_calc_on_load(text: str) -> str:
    """workbook.xml with ``<calcPr fullCalcOnLoad="1">`` so Excel recalculates formulas over new rows."""
    if re.search(r"<(?:[\w.-]+:)?calcPr\b", text):
        return set_attribute(text, "calcPr", "fullCalcOnLoad", "1")
    root = re.search(r"<((?:[\w.-]+:)?)workbook\b", text)
    prefix = root.group(1) if root else ""
    snippet = f'<{prefix}calcPr fullCalcOnLoad="1"/>'
    for follower in CALCPR_FOLLOWERS:
        m = re.search(r"<(?:[\w.-]+:)?" + follower + r"\b", text)
        if m:
            return text[: m.start()] + snippet + text[m.start() :]
    m = _tag("workbook", closing=True).search(text)
    if m is None:
        raise WorkbookError("workbook.xml has no closing </workbook>; the workbook is damaged.")
    return text[: m.start()] + snippet + text[m.start() :]
