"""Paging iterators: offset/limit, keyset (id > last), and next-link protocols (OData v4, Exact, SAP B1).

Each yields one page (a list of records) at a time, so a connector can stage pages without holding
raw HTTP responses. A next link that repeats is a protocol error (it would loop forever).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

from .errors import ProtocolError
from .http import HttpClient

T = TypeVar("T")
K = TypeVar("K")
Record = dict[str, Any]
Extract = Callable[[Any], tuple[list[Record], str | None]]


def offset_pages(fetch: Callable[[int, int], list[T]], page_size: int) -> Iterator[list[T]]:
    """``fetch(offset, limit)`` until a short page. Shifts if records vanish between pages: prefer keyset."""
    offset = 0
    while True:
        page = fetch(offset, page_size)
        if page:
            yield page
        if len(page) < page_size:
            return
        offset += len(page)


def keyset_pages(fetch: Callable[[K | None, int], list[T]], key: Callable[[T], K], page_size: int) -> Iterator[list[T]]:
    """``fetch(after, limit)`` returning records ordered by key greater than ``after``; safe under deletions."""
    after: K | None = None
    while True:
        page = fetch(after, page_size)
        if page:
            yield page
        if len(page) < page_size:
            return
        after = key(page[-1])


def _as_list(value: Any, what: str) -> list[Record]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ProtocolError(f"{what}: expected a list of records, got {type(value).__name__}")
    return value


def odata_v4(body: Any) -> tuple[list[Record], str | None]:
    """OData v4 (Business Central, SAP B1 ``/b1s/v2``): ``{"value": [...], "@odata.nextLink": url}``."""
    if not isinstance(body, dict) or "value" not in body:
        raise ProtocolError("OData response without 'value'")
    return _as_list(body["value"], "OData value"), body.get("@odata.nextLink")


def sap_odata(body: Any) -> tuple[list[Record], str | None]:
    """SAP B1 Service Layer ``/b1s/v1`` (OData v3 JSON light): ``odata.nextLink`` relative to the service root."""
    if not isinstance(body, dict) or "value" not in body:
        raise ProtocolError("Service Layer response without 'value'")
    return _as_list(body["value"], "Service Layer value"), body.get("odata.nextLink") or body.get("@odata.nextLink")


def exact_d(body: Any) -> tuple[list[Record], str | None]:
    """Exact Online (OData v2 verbose): ``{"d": {"results": [...], "__next": url}}`` or ``{"d": [...]}``."""
    if not isinstance(body, dict) or "d" not in body:
        raise ProtocolError("Exact Online response without 'd'")
    d = body["d"]
    if isinstance(d, list):
        return _as_list(d, "Exact d"), None
    if not isinstance(d, dict) or "results" not in d:
        raise ProtocolError("Exact Online 'd' without 'results'")
    return _as_list(d["results"], "Exact results"), d.get("__next")


def link_pages(
    client: HttpClient,
    path: str,
    extract: Extract,
    params: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Iterator[list[Record]]:
    """GET ``path`` with ``params``, then follow the next links (absolute or relative to the current URL)."""
    url: str | None = client.url(path)
    first = True
    seen: set[str] = set()
    while url is not None:
        body = client.json("GET", url, params=params if first else None, headers=headers)
        first = False
        records, link = extract(body)
        yield records
        if link:
            nxt = client.url(link) if link.startswith(("http://", "https://")) else _join(url, link)
            if nxt in seen:
                raise ProtocolError(f"{client.erp}: next link repeats ({nxt}); stopping to avoid a loop")
            seen.add(nxt)
            url = nxt
        else:
            url = None


def _join(current: str, link: str) -> str:
    from urllib.parse import urljoin

    return urljoin(current.split("?", 1)[0], link)
