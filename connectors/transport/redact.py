"""Structured logging that never logs secrets.

Every log line of the transport is one event name plus key=value fields (``extra={"sop": fields}`` for
JSON handlers). Headers, URLs and bodies pass through :func:`redact_headers`, :func:`redact_url` and
:func:`redact_json` first: Authorization, cookies, tokens, passwords, API keys and client secrets become
``***``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"
SECRET_NAME = re.compile(
    r"(authorization|cookie|token|password|passwd|secret|api[-_]?key|apikey|session|b1session|routeid|"
    r"client[-_]?assertion|code_verifier|^code$|^key$)",
    re.IGNORECASE,
)
"""Names (header, query parameter, JSON key) whose values are secrets."""
_BEARER = re.compile(r"(bearer|basic|session)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE)


def is_secret_name(name: str) -> bool:
    return bool(SECRET_NAME.search(name))


def redact_headers(headers: Mapping[str, Any]) -> dict[str, str]:
    return {k: (MASK if is_secret_name(k) else str(v)) for k, v in headers.items()}


def redact_url(url: str) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1] if "@" in parts.netloc else parts.netloc
    query = urlencode([(k, MASK if is_secret_name(k) else v) for k, v in parse_qsl(parts.query, True)], safe="$,'()")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_json(value: Any) -> Any:
    """A copy with the values of secret-named keys masked (recursively)."""
    if isinstance(value, Mapping):
        return {k: (MASK if is_secret_name(str(k)) else redact_json(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_json(v) for v in value]
    return value


def redact_text(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Mask bearer/basic credentials and any of the known secret values inside free text."""
    text = _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", text)
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, MASK)
    return text


def excerpt(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


def log_event(logger: logging.Logger, level: int, event: str, **fields: Any) -> None:
    """One structured line: ``event key=value ...``; fields go through :func:`redact_json` first."""
    if not logger.isEnabledFor(level):
        return
    clean = redact_json(fields)
    text = " ".join(f"{k}={v}" for k, v in clean.items())
    logger.log(level, "%s %s", event, text, extra={"sop": {"event": event, **clean}})
