"""Ports for the servers the tests and the chaos harness start of their own (brokers, registries).

A port the kernel hands out for ``bind(0)`` comes from its ephemeral range, the range it also gives every outgoing
connection: free when asked, it can be a Kafka client's local port a moment later, and the broker started on it then
fails to bind. These ports come from below that range instead, in a block per pytest-xdist worker, each checked free
when handed out.
"""

from __future__ import annotations

import itertools
import os
import socket
from pathlib import Path

_FIRST = 20_000
_BLOCK = 1_500
_EPHEMERAL = Path("/proc/sys/net/ipv4/ip_local_port_range")


def _below_ephemeral() -> int:
    try:
        return int(_EPHEMERAL.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


def _block_start() -> int:
    """Each xdist worker its own block; any other process one chosen by its pid."""
    blocks = max((_below_ephemeral() - _FIRST) // _BLOCK, 1)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    index = int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else os.getpid()
    return _FIRST + index % blocks * _BLOCK


_candidates = itertools.count()


def free_port() -> int:
    """A loopback port nobody listens on, outside the kernel's ephemeral range."""
    start = _block_start()
    for _ in range(_BLOCK):
        port = start + next(_candidates) % _BLOCK
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {start}..{start + _BLOCK - 1}")
