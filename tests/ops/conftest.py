"""The bulk tests' sandbox fixtures, for the exporter's log lines."""

from __future__ import annotations

from tests.bulk.conftest import admin, client, clock, started

__all__ = ["admin", "client", "clock", "started"]
