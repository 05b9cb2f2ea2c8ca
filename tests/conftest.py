"""Suite-wide fixtures: the clock of modules marked ``demo_clock``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from sop_functions import clock

from .addin_support import DEMO_AS_OF

DEMO_NOW = DEMO_AS_OF + dt.timedelta(hours=6)
"""The add-in tests' "now": the afternoon of the demo ERP's as-of day."""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "demo_clock: run the module with sopxl's clock set to DEMO_NOW")


@pytest.fixture(scope="module", autouse=True)
def demo_clock(request: pytest.FixtureRequest) -> Iterator[dt.datetime | None]:
    """In modules marked ``demo_clock``: SOPXL_NOW = :data:`DEMO_NOW` for the module and the processes it
    starts, so a demo workbook of 2026-11 is today's workbook whatever day the suite runs."""
    if request.node.get_closest_marker("demo_clock") is None:
        yield None
        return
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(clock.ENV_VAR, DEMO_NOW.isoformat())
        yield DEMO_NOW
