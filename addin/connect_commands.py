"""``sop connect KIND``, ``sop check-connection`` and ``sop sync-erp``: ERP connection profiles in sop.toml."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from connectors.profiles import KINDS, env_name, find_profile, load_profiles, write_profile
from connectors.transport import ConfigError, ConnectorError

console = Console()
err_console = Console(stderr=True)
ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="The sop.toml to read or write.")]


def _value(text: str) -> Any:
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def _fail(exc: BaseException) -> None:
    err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
    raise typer.Exit(code=1)


def connect(
    kind: Annotated[str, typer.Argument(help=f"One of: {', '.join(KINDS)}.")],
    settings: Annotated[list[str] | None, typer.Option("--set", help="key=value (repeatable).")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Profile name (default: the kind).")] = None,
    config: ConfigOption = Path("sop.toml"),
    auth_code: Annotated[
        str | None, typer.Option("--auth-code", help="Exact Online: the code from the consent redirect.")
    ] = None,
) -> None:
    """Write a connection profile (no secrets) to sop.toml and say which environment variables hold secrets."""
    if kind not in KINDS:
        _fail(ConfigError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}"))
    profile_name = name or kind
    profile: dict[str, Any] = {"kind": kind}
    for item in settings or []:
        key, sep, value = item.partition("=")
        if not sep:
            _fail(ConfigError(f"--set {item!r}: expected key=value"))
        profile[key.strip()] = _value(value.strip())
    try:
        if config.is_file() and profile_name in load_profiles(config):
            profile = {**load_profiles(config)[profile_name], **profile}
        write_profile(config, profile_name, profile)
        if auth_code:
            _exchange(profile_name, config, auth_code)
    except (ConnectorError, OSError, ValueError) as exc:
        _fail(exc)
    spec = KINDS[kind]
    console.print(f"wrote [bold]{escape(f'[{profile_name}]')}[/] ({spec.title}) to {escape(str(config))}")
    for secret in spec.secrets:
        console.print(
            f"  secret {secret}: set {env_name(profile_name, secret)} (or keyring sopxl-{profile_name})", markup=False
        )
    console.print("then: sop check-connection " + profile_name, markup=False)


def _exchange(name: str, config: Path, code: str) -> None:
    from connectors.registry import build_connector

    _, profile = find_profile(name, config)
    connector = build_connector(name, profile, base_dir=config.parent)
    client = getattr(connector, "client", None)
    auth = getattr(client, "auth", None)
    exchange = getattr(auth, "exchange_code", None)
    if client is None or exchange is None:
        raise ConfigError("--auth-code is for OAuth authorization-code profiles (exact_online)")
    redirect = str(profile.get("redirect_uri") or "")
    if not redirect:
        raise ConfigError(f"[{name}] needs redirect_uri (the one registered for the app) to use --auth-code")
    exchange(client.session, code, redirect)


def check_connection(
    profile: Annotated[str | None, typer.Argument(help="Profile name or kind (default: every profile).")] = None,
    config: ConfigOption = Path("sop.toml"),
) -> None:
    """Say per entity what is read from where and whether it works; exit 1 if anything fails."""
    from connectors.registry import check_profile  # the connectors load pandas: not at `sop` start-up

    try:
        names = [profile] if profile else list(load_profiles(config))
    except ConnectorError as exc:
        _fail(exc)
        return
    failed = False
    for name in names:
        try:
            statuses = check_profile(name, config)
        except (ConnectorError, OSError, ValueError) as exc:
            _fail(exc)
            return
        if len(statuses) == 1 and statuses[0].entity == "connection":  # one cause for every entity: one line
            line = escape(f"[{name}] {statuses[0].detail}")
            err_console.print(f"[bold red]error:[/] {line}", highlight=False, soft_wrap=True)
            failed = True
            continue
        table = Table(title=escape(f"[{name}]"), show_lines=False)
        for column in ("entity", "status", "read from", "detail"):
            table.add_column(column, overflow="fold")
        colours = {"ok": "green", "missing": "yellow", "not configured": "yellow", "error": "red"}
        for s in statuses:
            table.add_row(escape(s.entity), f"[{colours[s.status]}]{s.status}[/]", escape(s.source), escape(s.detail))
            failed |= s.status == "error"
        console.print(table)
    if failed:
        raise typer.Exit(code=1)


def sync_erp(
    profile: Annotated[str, typer.Argument(help="Profile name or kind.")],
    config: ConfigOption = Path("sop.toml"),
    full: Annotated[bool, typer.Option("--full", help="Re-read everything (drops deleted records).")] = False,
) -> None:
    """Sync the ERP into the local snapshot store (all or nothing) and print what was read."""
    from connectors.registry import snapshot_from_profile, store_for, warnings_from_profile

    from .report import print_warnings

    try:
        snapshot = snapshot_from_profile(profile, config, full=full)
    except (ConnectorError, OSError, ValueError) as exc:
        _fail(exc)
        return
    counts = ", ".join(f"{e} {len(f)}" for e, f in snapshot.frames.items())
    console.print(f"synced {escape(f'[{profile}]')} as of {snapshot.as_of.isoformat(timespec='seconds')}: {counts}")
    warnings = warnings_from_profile(profile, config)
    print_warnings(warnings, f" (all of them: {store_for(*find_profile(profile, config), config).link}/warnings.json)")


def register(app: typer.Typer) -> None:
    app.command("connect")(connect)
    app.command("check-connection")(check_connection)
    app.command("sync-erp")(sync_erp)
