"""Connection settings: ``sop.toml`` ``[tryton]`` + the password from the environment (or keyring).

The password is never read from the workbook or ``sop.toml`` and never printed: ``repr`` masks it.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

PASSWORD_ENV = "SOP_TRYTON_PASSWORD"
KEYRING_SERVICE = "sopxl-tryton"


class TrytonSettings(BaseModel):
    """Where and as whom to connect; how to page, retry and cache."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str = Field(description="Server URL, e.g. https://erp.example.com:8000")
    database: str = Field(min_length=1)
    user: str = Field(min_length=1)
    password: SecretStr = Field(repr=False)
    timeout: float = Field(default=60.0, gt=0, description="Seconds per HTTP request")
    page_size: int = Field(default=1000, ge=1, description="Records per search_read page (lowered on HTTP 413)")
    ca_bundle: str | None = Field(default=None, description="CA bundle for a private CA; verification stays on")
    cache_dir: Path = Field(default=Path(".sop-cache"), description="Where the incremental sync state lives")
    default_lead_time_days: int = Field(default=14, ge=0, description="Lead time of items without supplier data")
    sync_workers: int = Field(default=4, ge=1, le=16, description="Requests a sync sends at once (sessions)")
    session_dir: Path | None = Field(
        default=None,
        description="Where the session is kept between runs (0600 file); default the system keyring, else "
        "~/.local/state/sopxl/tokens like the OAuth tokens",
    )
    allow_insecure_http: bool = Field(
        default=False, description="Plain http:// to this url's host (password unencrypted): trusted networks only"
    )
    sync_overlap_seconds: float = Field(
        default=60.0,
        ge=0,
        description="Re-read changes this far behind the watermark (transactions that committed late)",
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("Tryton url must start with http:// or https://")
        return value.rstrip("/")

    @property
    def cache_file(self) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in self.database)
        return self.cache_dir / f"tryton-{safe}.sqlite"


def _password_from_keyring(url: str, user: str) -> str | None:
    try:
        import keyring  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    value = keyring.get_password(KEYRING_SERVICE, f"{user}@{url}")
    return value if isinstance(value, str) else None


def load_settings(config_path: str | Path = "sop.toml", env: dict[str, str] | None = None) -> TrytonSettings:
    """Read ``[tryton] url, database, user`` (+ optional tuning keys) from ``sop.toml``.

    The password comes from ``SOP_TRYTON_PASSWORD``, else from the OS keyring (service ``sopxl-tryton``,
    entry ``user@url``) if the ``keyring`` package is installed. The cache lives beside ``sop.toml``.
    """
    path = Path(config_path)
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    section: dict[str, Any] = dict(data.get("tryton") or {})
    if "password" in section:
        raise ValueError(f"{path}: do not put the Tryton password in the file; set {PASSWORD_ENV} instead")
    missing = [k for k in ("url", "database", "user") if not section.get(k)]
    if missing:
        raise ValueError(f"{path}: [tryton] needs {', '.join(missing)}")
    environ = os.environ if env is None else env
    password = environ.get(PASSWORD_ENV) or _password_from_keyring(section["url"], section["user"])
    if not password:
        raise ValueError(f"no Tryton password: set the environment variable {PASSWORD_ENV}")
    cache_dir = Path(section.pop("cache_dir", ".sop-cache"))
    if not cache_dir.is_absolute():
        cache_dir = path.parent / cache_dir
    return TrytonSettings(password=SecretStr(password), cache_dir=cache_dir, **section)
