"""From a ``sop.toml`` profile to a connector, a synced snapshot, or a connection check.

``snapshot_from_profile("odoo", Path("sop.toml"))`` is what ``--source`` can call: it syncs (incrementally
where the ERP allows) into ``<cache_dir>/<profile>/`` next to ``sop.toml`` and returns the new snapshot; a
failed sync raises and leaves the previous snapshot there untouched.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sop_functions import clock as sop_clock
from sop_functions.snapshot import Snapshot

from .notices import DataWarning
from .profiles import KINDS, find_profile, secret, validate
from .sync import Connector, EntityStatus, SnapshotStore, run_sync
from .transport import ClientCredentials, ConfigError, HttpClient, RateLimiter, RefreshToken, RetryPolicy
from .transport.http import make_session
from .transport.oauth import FileTokenStore, default_token_store
from .transport.retry import Clock
from .transport.security import allowed_hosts

Now = Callable[[], dt.datetime]


def company_clock(timezone: str) -> Now:
    """The as-of clock of a profile: now, in the company's zone (blank: this machine's), so the snapshot's
    as-of date is the company's today (sop_functions.clock)."""
    tz = sop_clock.zone(timezone) if timezone else None
    return lambda: sop_clock.now(tz)


def _client(name: str, erp: str, base: str, p: dict[str, Any], clock: Clock, **kwargs: Any) -> HttpClient:
    timeout = float(p.get("timeout", 60.0))
    retry = RetryPolicy(max_attempts=int(p.get("max_attempts", 6)), max_total=float(p.get("max_total_seconds", 300.0)))
    session = make_session(str(p.get("ca_bundle") or "") or None, insecure_hosts=allowed_hosts(p))
    return HttpClient(
        erp, base, session=session, retry=retry, timeout=(min(10.0, timeout), timeout), clock=clock, **kwargs
    )


def build_connector(
    name: str,
    profile: dict[str, Any],
    *,
    clock: Clock | None = None,
    now: Now | None = None,
    base_dir: Path = Path("."),
) -> Connector:
    """The connector a profile describes, with its secrets from the environment or keyring."""
    problems = validate(name, profile)
    if problems:
        raise ConfigError("\n".join(problems))
    p = {**KINDS[profile["kind"]].optional, **profile}
    clock = clock or Clock()
    if now is None:
        now = company_clock(str(p.get("timezone") or ""))
    kind = p["kind"]
    if kind == "odoo":
        from .odoo import Json2, JsonRpc, OdooConnector, StaticKey, company_context, json2_error

        key = secret(name, "API_KEY")
        url = str(p["url"]).rstrip("/") + "/"
        context = company_context(int(p["company_id"]))
        api: Json2 | JsonRpc
        if p["protocol"] == "json2":
            client = _client(name, "Odoo", url, p, clock, auth=StaticKey(key), error_parser=json2_error)
            api = Json2(client, p["database"], context)
        elif p["protocol"] == "jsonrpc":
            api = JsonRpc(_client(name, "Odoo", url, p, clock), p["database"], p["username"], key, context)
        else:
            raise ConfigError(f"[{name}] protocol must be 'json2' (Odoo 19) or 'jsonrpc' (Odoo <= 18)")
        return OdooConnector(
            api,
            version=int(p["version"]),
            page_size=int(p["page_size"]),
            work_days_per_month=float(p["work_days_per_month"]),
            now=now,
            source=name,
        )
    if kind == "business_central":
        from .business_central import BusinessCentralConnector, bc_error, parse_custom_pages

        token_url = f"{str(p['login_url']).rstrip('/')}/{p['tenant']}/oauth2/v2.0/token"
        scope = f"{str(p['api_url']).rstrip('/')}/.default"
        auth = ClientCredentials(
            "Business Central", token_url, p["client_id"], secret(name, "CLIENT_SECRET"), scope, clock=clock
        )
        base = f"{str(p['api_url']).rstrip('/')}/v2.0/{p['tenant']}/{p['environment']}/api/"
        return BusinessCentralConnector(
            _client(name, "Business Central", base, p, clock, auth=auth, error_parser=bc_error),
            p["company_id"],
            custom=parse_custom_pages(p.get("custom", {})),
            page_size=int(p["page_size"]),
            now=now,
            source=name,
        )
    if kind == "exact_online":
        from .exact_online import ExactConnector, exact_error

        store = FileTokenStore(Path(p["token_file"])) if p.get("token_file") else default_token_store(f"exact-{name}")
        base_url = str(p["base_url"]).rstrip("/")
        auth2 = RefreshToken(
            "Exact Online",
            f"{base_url}/api/oauth2/token",
            str(p["client_id"]),
            secret(name, "CLIENT_SECRET"),
            store,
            clock=clock,
        )
        limiter = RateLimiter(int(p["calls_per_minute"]), int(p["calls_per_day"]), clock)
        client = _client(
            name,
            "Exact Online",
            f"{base_url}/api/v1/{p['division']}/",
            p,
            clock,
            auth=auth2,
            limiter=limiter,
            error_parser=exact_error,
        )
        return ExactConnector(client, work_days_per_month=float(p["work_days_per_month"]), now=now, source=name)
    if kind == "sap_b1":
        from .sap_b1 import SapB1Connector, SapSession, sap_error

        base = str(p["url"]).rstrip("/") + "/b1s/v1/"
        sess = SapSession(base, p["company_db"], p["username"], secret(name, "PASSWORD"), clock)
        hours = {str(k): float(v) for k, v in dict(p.get("work_center_hours", {})).items()}
        return SapB1Connector(
            _client(name, "SAP Business One", base, p, clock, auth=sess, error_parser=sap_error),
            price_list=int(p["price_list"]),
            work_center_hours=hours,
            page_size=int(p["page_size"]),
            now=now,
            source=name,
        )
    if kind == "sql":
        import sqlalchemy as sa

        from .sql import SqlConnector

        db_url = sa.make_url(str(p["url"]))
        password = secret(name, "PASSWORD", required=False)
        if password:
            db_url = db_url.set(password=password)
        if db_url.drivername.startswith("sqlite") and db_url.database and not Path(db_url.database).is_absolute():
            db_url = db_url.set(database=str(base_dir / db_url.database))
        return SqlConnector(sa.create_engine(db_url), dict(p.get("queries", {})), now=now, source=name)
    raise ConfigError(f"unknown kind {kind!r}")


def store_for(name: str, profile: dict[str, Any], config: Path) -> SnapshotStore:
    cache = Path(str(profile.get("cache_dir") or ".sop-cache"))
    return SnapshotStore((cache if cache.is_absolute() else config.parent / cache) / name)


def snapshot_from_profile(
    name_or_kind: str, config_path: Path, *, full: bool = False, clock: Clock | None = None, now: Now | None = None
) -> Snapshot:
    """Sync the profile's ERP into its local store and return the snapshot (previous one kept on failure)."""
    name, profile = find_profile(name_or_kind, config_path)
    connector = build_connector(name, profile, clock=clock, now=now, base_dir=config_path.parent)
    return run_sync(connector, store_for(name, profile, config_path), full=full)


def warnings_from_profile(name_or_kind: str, config_path: Path) -> list[DataWarning]:
    """The record warnings of the profile's current snapshot (what its last sync left out or read with a
    fallback); the CLI prints them after ``snapshot_from_profile``."""
    name, profile = find_profile(name_or_kind, config_path)
    return store_for(name, profile, config_path).load_warnings()


def check_profile(name_or_kind: str, config_path: Path, *, clock: Clock | None = None) -> list[EntityStatus]:
    """Per entity: read from where, and whether it works; settings and secrets problems as 'error'."""
    name, profile = find_profile(name_or_kind, config_path)
    problems = validate(name, profile)
    if problems:
        return [EntityStatus("profile", "error", str(config_path), p) for p in problems]
    try:
        connector = build_connector(name, profile, clock=clock, base_dir=config_path.parent)
    except ConfigError as exc:
        return [EntityStatus("profile", "error", str(config_path), str(exc))]
    statuses = connector.check()
    details = {s.detail for s in statuses}
    if statuses and all(s.status == "error" for s in statuses) and len(details) == 1:
        # one cause for every entity (the server is unreachable, the key refused): say it once
        return [EntityStatus("connection", "error", ", ".join(s.source for s in statuses), details.pop())]
    return statuses
