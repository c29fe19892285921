"""Ports for the servers tests start of their own come from below the kernel's ephemeral range, so no client
connection can take one between the check and the server's bind; each xdist worker draws from a block of its own
(``bench/ports.py``)."""

from __future__ import annotations

import socket

import pytest

from bench import ports


def test_a_port_is_below_the_ephemeral_range_and_free_to_listen_on() -> None:
    port = ports.free_port()

    assert ports._FIRST <= port < ports._below_ephemeral()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_each_xdist_worker_draws_from_a_block_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn = {}
    for worker in ("gw0", "gw1", "gw2"):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
        drawn[worker] = {ports.free_port() for _ in range(5)}

    assert all(ports._FIRST <= port < ports._below_ephemeral() for found in drawn.values() for port in found)
    assert not drawn["gw0"] & drawn["gw1"] and not drawn["gw1"] & drawn["gw2"] and not drawn["gw0"] & drawn["gw2"]


def test_a_port_someone_listens_on_is_passed_over(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw5")
    taken = ports.free_port()
    monkeypatch.setattr(ports, "_candidates", iter(range(taken - ports._block_start(), 10**6)))
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", taken))
        listener.listen()

        assert ports.free_port() == taken + 1
