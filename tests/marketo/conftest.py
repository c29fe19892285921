"""Fixtures of the client tests (shared with the bulk tests): see tests/marketo/support.py."""

from tests.marketo.support import admin, client, clock

__all__ = ["admin", "client", "clock"]
