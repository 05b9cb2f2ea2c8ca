"""Odoo's two external APIs behind one small interface: ``search_read`` and ``search``.

- JSON-RPC (Odoo <= 18, still served by 19): ``POST /jsonrpc``; ``common.authenticate(db, login, key, {})``
  gives the uid, then ``object.execute_kw(db, uid, key, model, method, args, kwargs)``. Application errors
  come back as HTTP 200 with an ``error`` member (``data.name`` is the Python exception).
- JSON-2 (Odoo 19+): ``POST /json/2/<model>/<method>`` with ``Authorization: bearer <API key>`` and
  ``X-Odoo-Database``, named parameters in the body, real HTTP status codes and
  ``{name, message, arguments, context, debug}`` error bodies.

Both send the same ``context`` with every call: on a multi-company database
``{"allowed_company_ids": [id]}`` makes Odoo's record rules show that company's records only (without it,
Odoo shows the API user's *current* company, whichever that is today).
"""

from __future__ import annotations

import itertools
from typing import Any, Protocol

import requests

from connectors.transport import ApiError, AuthError, HttpClient, NotFoundError, ProtocolError
from connectors.transport.redact import excerpt

Domain = list[Any]


class OdooApi(Protocol):
    def search_read(
        self, model: str, domain: Domain, fields: list[str], limit: int, order: str
    ) -> list[dict[str, Any]]: ...

    def search(self, model: str, domain: Domain) -> list[int]: ...

    def search_count(self, model: str, domain: Domain) -> int: ...


def json2_error(resp: requests.Response) -> ApiError:
    try:
        body = resp.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        name, message = str(body.get("name", "")), str(body.get("message", ""))
    else:
        name, message = "", excerpt(resp.text, 200) if isinstance(body, type(None)) else str(body)
    if resp.status_code == 401:
        return _AuthApiError("Odoo", 401, message or "API key refused", name)
    cls = NotFoundError if resp.status_code in (404, 410) else ApiError
    return cls("Odoo", resp.status_code, message or resp.reason or "", name)


class _AuthApiError(ApiError, AuthError):
    """401 from JSON-2: the API key is wrong, revoked or expired."""


class StaticKey:
    """Odoo API keys do not expire mid-session by themselves; a 401 means revoked/expired: fail clearly."""

    def __init__(self, key: str) -> None:
        self.key = key

    def apply(self, headers: dict[str, str], session: requests.Session) -> None:
        headers["Authorization"] = f"bearer {self.key}"

    def refresh(self, session: requests.Session) -> None:
        raise AuthError(
            "Odoo refused the API key (revoked or expired); create a new one under Preferences > Account Security"
        )

    def secrets(self) -> tuple[str, ...]:
        return (self.key,)


def company_context(company_id: int) -> dict[str, Any]:
    """The context that reads one company of a multi-company database (0: the user's current company)."""
    return {"allowed_company_ids": [company_id]} if company_id else {}


class Json2(OdooApi):
    def __init__(self, client: HttpClient, database: str, context: dict[str, Any] | None = None) -> None:
        self.client = client
        self.database = database
        self.context = dict(context or {})

    def _call(self, model: str, method: str, body: dict[str, Any]) -> Any:
        headers = {"X-Odoo-Database": self.database} if self.database else {}
        payload = {**body, "context": self.context}
        return self.client.json("POST", f"json/2/{model}/{method}", json=payload, headers=headers)

    def search_read(
        self, model: str, domain: Domain, fields: list[str], limit: int, order: str
    ) -> list[dict[str, Any]]:
        result = self._call(model, "search_read", {"domain": domain, "fields": fields, "limit": limit, "order": order})
        if not isinstance(result, list):
            raise ProtocolError(f"Odoo {model}.search_read did not return a list")
        return result

    def search(self, model: str, domain: Domain) -> list[int]:
        result = self._call(model, "search", {"domain": domain, "order": "id"})
        if not isinstance(result, list):
            raise ProtocolError(f"Odoo {model}.search did not return a list")
        return [int(i) for i in result]

    def search_count(self, model: str, domain: Domain) -> int:
        result = self._call(model, "search_count", {"domain": domain})
        if not isinstance(result, int):
            raise ProtocolError(f"Odoo {model}.search_count did not return a number")
        return result


class JsonRpc(OdooApi):
    def __init__(
        self, client: HttpClient, database: str, login: str, key: str, context: dict[str, Any] | None = None
    ) -> None:
        self.client = client
        self.database = database
        self.login = login
        self.key = key
        self.context = dict(context or {})
        self.uid: int | None = None
        self._ids = itertools.count(1)

    def _rpc(self, service: str, method: str, args: list[Any]) -> Any:
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": next(self._ids),
            "params": {"service": service, "method": method, "args": args},
        }
        body = self.client.json("POST", "jsonrpc", json=payload)
        if not isinstance(body, dict) or ("result" not in body and "error" not in body):
            raise ProtocolError("Odoo /jsonrpc answered something that is not a JSON-RPC reply")
        if "error" in body:
            err = body["error"] or {}
            data = err.get("data") or {}
            name = str(data.get("name", ""))
            message = str(data.get("message") or err.get("message", ""))
            if name.endswith("AccessDenied") or err.get("code") == 100:
                raise AuthError(f"Odoo refused the login or API key ({message})")
            raise ApiError("Odoo", 200, message, name)
        return body["result"]

    def _execute(self, model: str, method: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        if self.uid is None:
            uid = self._rpc("common", "authenticate", [self.database, self.login, self.key, {}])
            if not isinstance(uid, int) or isinstance(uid, bool):
                raise AuthError(f"Odoo refused login {self.login!r} on database {self.database!r}")
            self.uid = uid
        kwargs = {**kwargs, "context": self.context} if self.context else kwargs
        return self._rpc("object", "execute_kw", [self.database, self.uid, self.key, model, method, args, kwargs])

    def search_read(
        self, model: str, domain: Domain, fields: list[str], limit: int, order: str
    ) -> list[dict[str, Any]]:
        result = self._execute(model, "search_read", [domain], {"fields": fields, "limit": limit, "order": order})
        if not isinstance(result, list):
            raise ProtocolError(f"Odoo {model}.search_read did not return a list")
        return result

    def search(self, model: str, domain: Domain) -> list[int]:
        result = self._execute(model, "search", [domain], {"order": "id"})
        if not isinstance(result, list):
            raise ProtocolError(f"Odoo {model}.search did not return a list")
        return [int(i) for i in result]

    def search_count(self, model: str, domain: Domain) -> int:
        result = self._execute(model, "search_count", [domain], {})
        if not isinstance(result, int):
            raise ProtocolError(f"Odoo {model}.search_count did not return a number")
        return result
