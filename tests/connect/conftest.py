"""PostgreSQL and the Kafka Connect worker, found or started once per session like Kafka itself."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.connect.warehouse import ConnectWorker, Warehouse, ensure_warehouse, stop_warehouse
from tests.infra import Infra


@pytest.fixture(scope="session")
def warehouse(infra: Infra) -> Iterator[Warehouse]:
    found = ensure_warehouse()
    yield found
    if found.started_here:
        stop_warehouse()


@pytest.fixture(scope="session")
def connect_worker(warehouse: Warehouse) -> ConnectWorker:
    return ConnectWorker(warehouse.connect_url)
