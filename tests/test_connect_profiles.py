"""``sop connect`` / ``sop check-connection`` / ``sop sync-erp`` and :func:`snapshot_from_profile`."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from addin.cli import app
from connectors.profiles import env_name, secret, write_profile
from connectors.registry import check_profile, snapshot_from_profile
from connectors.transport import ConfigError
from tests.connector_support import QUERIES, load_sql, now
from tests.fakes import business_central as bcf
from tests.fakes.business_central import FakeBusinessCentral

runner = CliRunner()


def test_connect_writes_the_profile_and_keeps_other_sections(tmp_path: Path) -> None:
    config = tmp_path / "sop.toml"
    config.write_text('# planners: do not touch\n[tryton]\nurl = "http://t:8000"\ndatabase = "x"\nuser = "u"\n')
    result = runner.invoke(
        app,
        [
            "connect",
            "odoo",
            "-c",
            str(config),
            "--set",
            "url=https://erp.example.com",
            "--set",
            "database=prod",
            "--set",
            "username=sync",
            "--set",
            "version=18",
            "--set",
            "protocol=jsonrpc",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "SOP_ODOO_API_KEY" in result.output
    data = tomllib.loads(config.read_text())
    assert data["tryton"]["url"] == "http://t:8000"
    assert data["odoo"] == {
        "kind": "odoo",
        "url": "https://erp.example.com",
        "database": "prod",
        "username": "sync",
        "version": 18,
        "protocol": "jsonrpc",
    }
    assert config.read_text().startswith("# planners")
    again = runner.invoke(app, ["connect", "odoo", "-c", str(config), "--set", "database=test"])
    assert again.exit_code == 0
    assert tomllib.loads(config.read_text())["odoo"]["database"] == "test"


def test_connect_refuses_secrets_in_the_file(tmp_path: Path) -> None:
    config = tmp_path / "sop.toml"
    result = runner.invoke(
        app,
        [
            "connect",
            "sap_b1",
            "-c",
            str(config),
            "--set",
            "url=https://b1:50000",
            "--set",
            "company_db=SBO",
            "--set",
            "username=manager",
            "--set",
            "password=hunter2",
        ],
    )
    assert result.exit_code == 1
    assert "SOP_SAP_B1_PASSWORD" in result.output and "hunter2" not in result.output
    assert not config.exists()
    with pytest.raises(ConfigError, match="contains a password"):
        write_profile(config, "sql", {"kind": "sql", "url": "postgresql://u:pw@db/erp"})


def test_secret_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOP_ODOO_EU_API_KEY", "k")
    assert env_name("odoo-eu", "API_KEY") == "SOP_ODOO_EU_API_KEY"
    assert secret("odoo-eu", "API_KEY") == "k"
    monkeypatch.delenv("SOP_ODOO_EU_API_KEY")
    with pytest.raises(ConfigError, match="SOP_ODOO_EU_API_KEY"):
        secret("odoo-eu", "API_KEY")


def test_check_connection_says_what_works_and_what_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "sop.toml"
    with FakeBusinessCentral() as fake:
        write_profile(
            config,
            "business_central",
            {
                "kind": "business_central",
                "tenant": bcf.TENANT,
                "environment": bcf.ENV,
                "company_id": bcf.COMPANY,
                "client_id": bcf.CLIENT_ID,
                "api_url": fake.url,
                "login_url": fake.url,
                "custom": {"production": bcf.CUSTOM_PAGES["production"]},
            },
        )
        missing = check_profile("business_central", config)
        assert missing[0].status == "error" and "SOP_BUSINESS_CENTRAL_CLIENT_SECRET" in missing[0].detail
        monkeypatch.setenv("SOP_BUSINESS_CENTRAL_CLIENT_SECRET", bcf.CLIENT_SECRET)
        statuses = {s.entity + ":" + s.source: s for s in check_profile("business_central", config)}
        assert statuses["items:items"].status == "ok"
        assert statuses["production:sopxl/planning/v1.0/productionOrders"].status == "ok"
        assert statuses["bom:standard API v2.0"].status == "missing"
        assert "custom.bom" in statuses["bom:standard API v2.0"].detail
        result = runner.invoke(app, ["check-connection", "-c", str(config)])
        assert result.exit_code == 0, result.output
        assert "missing" in result.output and "salesOrderLines" in result.output


def test_sql_profile_end_to_end(tmp_path: Path) -> None:
    import sqlalchemy as sa

    load_sql(sa.create_engine(f"sqlite:///{tmp_path / 'erp.db'}"))
    config = tmp_path / "sop.toml"
    write_profile(config, "sql", {"kind": "sql", "url": "sqlite:///erp.db", "queries": QUERIES})
    snapshot = snapshot_from_profile("sql", config, now=now)
    assert len(snapshot.items) == 6 and len(snapshot.shipments) == 6  # the future delivery is left out by :as_of_date
    assert (tmp_path / ".sop-cache" / "sql" / "current").is_symlink()
    result = runner.invoke(app, ["sync-erp", "sql", "-c", str(config)])
    assert result.exit_code == 0 and "items 6" in result.output
    bad = dict(QUERIES, stock="SELECT * FROM onhand WHERE whs = :warehouse")
    with pytest.raises(ConfigError, match="unknown parameter"):
        write_profile(config, "sql", {"kind": "sql", "url": "sqlite:///erp.db", "queries": bad})
        snapshot_from_profile("sql", config)
