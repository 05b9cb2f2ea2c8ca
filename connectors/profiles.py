"""Connection profiles in ``sop.toml``: one table per profile, named after the kind or given a name.

::

    [odoo]                        # sop connect odoo --set url=https://erp.example.com --set database=prod ...
    kind = "odoo"
    url = "https://erp.example.com"

Secrets never go in the file. Each is read from the environment variable ``SOP_<PROFILE>_<SECRET>``
(profile name upper-cased, ``-`` -> ``_``), else from the system keyring (service ``sopxl-<profile>``,
user ``<secret>``) when the ``keyring`` package is installed. :data:`KINDS` lists every setting and secret.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sop_functions import clock

from .transport import ConfigError
from .transport.redact import is_secret_name
from .transport.security import URL_SETTINGS, allowed_hosts, check_url


@dataclass(frozen=True)
class KindSpec:
    title: str
    required: tuple[str, ...]
    optional: dict[str, Any] = field(default_factory=dict)
    secrets: tuple[str, ...] = ()
    tables: tuple[str, ...] = ()
    """Sub-tables a profile may have (custom pages, queries, capacities)."""


COMMON = {
    "timeout": 60.0,
    "ca_bundle": "",
    "cache_dir": ".sop-cache",
    "max_attempts": 6,
    "max_total_seconds": 300.0,
    # the company's time zone (IANA name): the snapshot's as-of time, and so "today" and the horizon's
    # first month, are taken in it; blank = this machine's zone (docs/connectors.md)
    "timezone": "",
    # plain http:// to this profile's own hosts (credentials unencrypted on the wire): only on a network
    # you trust; https and loopback need nothing (connectors/transport/security.py)
    "allow_insecure_http": False,
}
KINDS: dict[str, KindSpec] = {
    "odoo": KindSpec(
        "Odoo 17-19",
        ("url", "database", "username"),
        # company_id: the Odoo company to read (0 = the API user's current company, which follows whatever
        # company the user last switched to in Odoo: set it on multi-company databases)
        {"protocol": "json2", "version": 19, "page_size": 500, "work_days_per_month": 21.0, "company_id": 0, **COMMON},
        ("API_KEY",),
    ),
    "business_central": KindSpec(
        "Dynamics 365 Business Central (API v2.0)",
        ("tenant", "environment", "company_id", "client_id"),
        {
            "api_url": "https://api.businesscentral.dynamics.com",
            "login_url": "https://login.microsoftonline.com",
            "page_size": 1000,
            **COMMON,
        },
        ("CLIENT_SECRET",),
        ("custom",),
    ),
    "exact_online": KindSpec(
        "Exact Online",
        ("division", "client_id"),
        {
            "base_url": "https://start.exactonline.nl",
            "redirect_uri": "",
            "work_days_per_month": 21.0,
            "calls_per_minute": 60,
            "calls_per_day": 5000,
            "token_file": "",
            **COMMON,
        },
        ("CLIENT_SECRET",),
    ),
    "sap_b1": KindSpec(
        "SAP Business One Service Layer",
        ("url", "company_db", "username"),
        {"price_list": 1, "page_size": 100, **COMMON},
        ("PASSWORD",),
        ("work_center_hours",),
    ),
    "sql": KindSpec(
        "SQL database (your own queries)",
        ("url",),
        {"cache_dir": ".sop-cache", "timezone": ""},
        ("PASSWORD",),
        ("queries",),
    ),
}


def env_name(profile: str, secret: str) -> str:
    return f"SOP_{re.sub(r'[^A-Za-z0-9]', '_', profile).upper()}_{secret}"


def secret(profile: str, key: str, required: bool = True) -> str:
    """The secret from ``SOP_<PROFILE>_<KEY>``, else the keyring; a clear error naming both if absent."""
    value = os.environ.get(env_name(profile, key))
    if value:
        return value
    try:
        import keyring  # type: ignore[import-not-found,unused-ignore]

        stored = keyring.get_password(f"sopxl-{profile}", key)
        if isinstance(stored, str) and stored:
            return stored
    except Exception:  # no keyring package or no usable backend
        pass
    if required:
        raise ConfigError(
            f"profile [{profile}] needs the secret {key}: set {env_name(profile, key)} "
            f"(or keyring service sopxl-{profile}, user {key})"
        )
    return ""


def load_profiles(config: Path) -> dict[str, dict[str, Any]]:
    """Every table of ``sop.toml`` with a ``kind`` this module knows."""
    if not config.is_file():
        raise ConfigError(f"no {config}: create a profile with `sop connect KIND`")
    try:
        data = tomllib.loads(config.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{config} is not valid TOML: {exc}") from exc
    return {k: v for k, v in data.items() if isinstance(v, dict) and v.get("kind") in KINDS}


def find_profile(name_or_kind: str, config: Path) -> tuple[str, dict[str, Any]]:
    profiles = load_profiles(config)
    if name_or_kind in profiles:
        return name_or_kind, profiles[name_or_kind]
    of_kind = [(n, p) for n, p in profiles.items() if p.get("kind") == name_or_kind]
    if len(of_kind) == 1:
        return of_kind[0]
    known = ", ".join(f"{n} ({p['kind']})" for n, p in profiles.items()) or "none"
    why = "several profiles of that kind; name one" if of_kind else "no such profile"
    raise ConfigError(f"{name_or_kind!r}: {why}; profiles in {config}: {known}")


def validate(name: str, profile: dict[str, Any]) -> list[str]:
    """Every problem with a profile's settings (not its secrets)."""
    kind = profile.get("kind")
    if kind not in KINDS:
        return [f"[{name}] kind must be one of {', '.join(KINDS)}, got {kind!r}"]
    spec = KINDS[kind]
    problems = [f"[{name}] missing setting {key!r}" for key in spec.required if not profile.get(key)]
    allowed = {"kind", *spec.required, *spec.optional, *spec.tables}
    problems += [
        f"[{name}] unknown setting {key!r} (settings: {', '.join(sorted(allowed))})"
        for key in profile
        if key not in allowed
    ]
    problems += [
        f"[{name}] {key!r} looks like a secret: use {env_name(name, key.upper())} instead"
        for key in profile
        if is_secret_name(key) and key not in spec.tables
    ]
    zone_name = str(profile.get("timezone") or "")
    if zone_name:
        try:
            clock.zone(zone_name)
        except ValueError as exc:
            problems.append(f"[{name}] timezone: {exc}")
    url = str(profile.get("url", ""))
    if "@" in url.split("//", 1)[-1].split("/", 1)[0] and ":" in url.split("//", 1)[-1].split("@", 1)[0]:
        problems.append(f"[{name}] url contains a password: put it in {env_name(name, 'PASSWORD')}")
    if kind != "sql":
        plain_ok = allowed_hosts(profile)
        for key in URL_SETTINGS:
            value = str(profile.get(key) or "")
            if value.lower().startswith("http://"):
                try:
                    check_url(value, f"[{name}] {key}", plain_ok)
                except ConfigError as exc:
                    problems.append(str(exc))
    return problems


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        if "\n" in value:
            return '"""\n' + value.replace("\\", "\\\\").replace('"""', '\\"""') + '"""'
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise ConfigError(f"cannot write {value!r} to sop.toml")


def _table(prefix: str, values: dict[str, Any]) -> list[str]:
    lines = [f"[{prefix}]"]
    nested = {k: v for k, v in values.items() if isinstance(v, dict)}
    lines += [f"{_key(k)} = {_toml_value(v)}" for k, v in values.items() if not isinstance(v, dict)]
    for key, sub in nested.items():
        lines += ["", *_table(f"{prefix}.{_key(key)}", sub)]
    return lines


def _key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_value(key)


def write_profile(config: Path, name: str, profile: dict[str, Any]) -> None:
    """Replace (or add) the ``[name]`` table and its sub-tables, keeping the rest of the file as written."""
    problems = validate(name, profile)
    if problems:
        raise ConfigError("cannot write the profile:\n  - " + "\n  - ".join(problems))
    text = config.read_text(encoding="utf-8") if config.is_file() else ""
    kept: list[str] = []
    skipping = False
    header = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
    for line in text.splitlines():
        m = header.match(line)
        if m:
            section = m.group(1).strip().strip('"')
            skipping = section == name or section.startswith(f"{name}.")
        if not skipping:
            kept.append(line)
    while kept and not kept[-1].strip():
        kept.pop()
    block = _table(_key(name), profile)
    out = "\n".join([*kept, *([""] if kept else []), *block]) + "\n"
    tomllib.loads(out)  # never leave a file that does not parse
    _write(config, out)


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
