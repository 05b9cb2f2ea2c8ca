"""No credentials in clear text: plain ``http://`` is refused unless the host is this machine or named.

Every ERP request carries a secret (an API key, a bearer token, a session cookie or a password). Over
plain HTTP to another host anyone on the network path reads it, so a connector refuses such a URL with a
message saying why and what to do. The two exceptions: loopback hosts (the request never leaves the
machine: the embedded demo ERP, an SSH tunnel), and hosts a profile names explicitly with
``allow_insecure_http = true`` (a lab or a network the company trusts; only that profile's own hosts).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

from .errors import ConfigError

ALLOW_SETTING = "allow_insecure_http"
URL_SETTINGS = ("url", "api_url", "login_url", "base_url")
"""Profile settings holding URLs: the hosts ``allow_insecure_http = true`` applies to."""


def is_loopback(host: str) -> bool:
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def check_url(url: str, erp: str, allowed_hosts: Iterable[str] = ()) -> None:
    """Refuse ``url`` if it is plain http to a host that is neither loopback nor in ``allowed_hosts``."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "https":
        return
    if scheme != "http":
        raise ConfigError(f"{erp}: {url!r} is not an http(s) URL")
    host = (parts.hostname or "").lower()
    if is_loopback(host) or host in {h.lower() for h in allowed_hosts}:
        return
    raise ConfigError(
        f"{erp}: {parts.scheme}://{parts.netloc} is plain http to another machine: the credentials would cross "
        f"the network unencrypted, so sopxl refuses it. Use https://{parts.netloc}, or, only on a network you "
        f"trust, set {ALLOW_SETTING} = true in the profile to allow plain http to {host}."
    )


def allowed_hosts(profile: dict[str, object]) -> frozenset[str]:
    """The hosts a profile allows plain http to: its own URL hosts when ``allow_insecure_http = true``."""
    if profile.get(ALLOW_SETTING) is not True:
        return frozenset()
    return frozenset(host_of(str(profile[k])) for k in URL_SETTINGS if profile.get(k))
