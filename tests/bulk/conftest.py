"""Fixtures of the bulk tests (the client tests' own): see tests/marketo/support.py."""

from tests.marketo.support import admin, client, clock

__all__ = ["admin", "client", "clock"]
