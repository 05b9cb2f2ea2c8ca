"""Supply-planning tests: registers the ``postgres`` marker (tests that start a throwaway PostgreSQL)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgres: starts a throwaway PostgreSQL cluster (skipped without binaries)")
    config.addinivalue_line("markers", "tryton: starts the embedded Tryton demo server")
