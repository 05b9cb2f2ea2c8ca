"""sop.toml [tryton] + SOP_TRYTON_PASSWORD; the password never comes from the file and is never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.tryton import load_settings

pytestmark = pytest.mark.tryton


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "sop.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_reads_toml_and_env(tmp_path: Path) -> None:
    path = _write(
        tmp_path, '[tryton]\nurl = "https://erp.example.com/"\ndatabase = "prod"\nuser = "sop"\npage_size = 200\n'
    )
    settings = load_settings(path, env={"SOP_TRYTON_PASSWORD": "pw-123"})
    assert settings.url == "https://erp.example.com"
    assert settings.page_size == 200
    assert settings.password.get_secret_value() == "pw-123"
    assert "pw-123" not in repr(settings) and "pw-123" not in str(settings.model_dump())
    assert settings.cache_file == tmp_path / ".sop-cache" / "tryton-prod.sqlite"


def test_refuses_password_in_file_and_missing_password(tmp_path: Path) -> None:
    path = _write(tmp_path, '[tryton]\nurl = "http://x"\ndatabase = "d"\nuser = "u"\npassword = "oops"\n')
    with pytest.raises(ValueError, match="SOP_TRYTON_PASSWORD"):
        load_settings(path, env={"SOP_TRYTON_PASSWORD": "pw"})
    path = _write(tmp_path, '[tryton]\nurl = "http://x"\ndatabase = "d"\nuser = "u"\n')
    with pytest.raises(ValueError, match="SOP_TRYTON_PASSWORD"):
        load_settings(path, env={})
