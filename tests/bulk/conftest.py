"""Fixtures of the bulk tests; the client tests' own come from tests/marketo/support.py."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from marketo_stream.sandbox import Sandbox
from tests.marketo.support import SandboxAdmin, SandboxClock, admin, client, clock

__all__ = ["admin", "client", "clock", "started"]


@pytest.fixture
def started(sandbox_factory: Callable[..., Sandbox]) -> Callable[..., tuple[Sandbox, SandboxAdmin, SandboxClock]]:
    """A sandbox with the given settings, its admin plane, and a clock whose waits advance it."""

    def make(**settings: object) -> tuple[Sandbox, SandboxAdmin, SandboxClock]:
        sandbox = sandbox_factory(**settings)
        admin = SandboxAdmin(sandbox)
        return sandbox, admin, SandboxClock(admin)

    return make
