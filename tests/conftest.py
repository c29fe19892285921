"""Shared fixtures: the real broker, the real registry, and throwaway topics on them."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator

import pytest
from confluent_kafka.admin import AdminClient, NewTopic
from confluent_kafka.schema_registry import SchemaRegistryClient

from marketo_stream.sandbox import PINNED_START, Sandbox, SandboxConfig
from tests.infra import Infra, SecureInfra, ensure_infra, ensure_secure_infra, stop_local_infra, stop_secure_infra
from tests.xdist_scheduling import pytest_xdist_make_scheduler  # noqa: F401  (a hook: loadscope without its hangs)

_infra_used: list[Infra | SecureInfra] = []


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    found = ensure_infra()
    _infra_used.append(found)
    yield found
    if found.started_here:
        stop_local_infra()


@pytest.fixture(scope="session")
def secure_infra(infra: Infra) -> Iterator[SecureInfra]:
    """The SASL_SSL broker (ACLs enforced) and the registry behind TLS and basic auth; needs the plain registry."""
    found = ensure_secure_infra()
    _infra_used.append(found)
    for value in (found.admin.password, found.marketo.password, found.stranger.password, found.registry_password):
        remember_test_secret(value)
    yield found
    if found.started_here:
        stop_secure_infra()


@pytest.fixture(scope="session")
def bootstrap_servers(infra: Infra) -> str:
    return infra.bootstrap_servers


@pytest.fixture(scope="session")
def registry_url(infra: Infra) -> str:
    return infra.registry_url


@pytest.fixture(scope="session")
def kafka_admin(bootstrap_servers: str) -> AdminClient:
    return AdminClient({"bootstrap.servers": bootstrap_servers})


@pytest.fixture(scope="session")
def registry_client(registry_url: str) -> SchemaRegistryClient:
    return SchemaRegistryClient({"url": registry_url})


@pytest.fixture
def unique_name() -> Callable[[str], str]:
    """Names unique to one test, so tests never see each other's topics or subjects."""

    def make(prefix: str) -> str:
        return f"{prefix}-{uuid.uuid4().hex[:12]}"

    return make


@pytest.fixture
def new_topic(kafka_admin: AdminClient, unique_name: Callable[[str], str]) -> Iterator[Callable[..., str]]:
    created: list[str] = []

    def make(prefix: str = "test", partitions: int = 1, config: dict[str, str] | None = None) -> str:
        name = unique_name(prefix)
        futures = kafka_admin.create_topics(
            [NewTopic(name, num_partitions=partitions, replication_factor=1, config=config or {})]
        )
        futures[name].result(timeout=30)
        created.append(name)
        return name

    yield make
    if created:
        for future in kafka_admin.delete_topics(created).values():
            with contextlib.suppress(Exception):
                future.result(timeout=30)


SECRET_VALUES: set[str] = set()
"""Secret values the tests hand to the product (sandbox client secrets, the secured services' passwords): none
may appear in anything a test run prints or logs."""


def remember_test_secret(value: str) -> None:
    if len(value) >= 8:
        SECRET_VALUES.add(value)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A test whose captured output or log holds a secret value fails, whatever it asserted."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    leaked = sorted({name for name, text in report.sections for value in SECRET_VALUES if value in text})
    if leaked and report.passed:
        report.outcome = "failed"
        report.longrepr = f"a secret value was printed or logged ({', '.join(leaked)})"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for found in _infra_used:
        terminalreporter.write_line(f"integration tests ran against: {found.describe()}")


# --- the Marketo sandbox (marketo_stream.sandbox): a real local Marketo over HTTP on loopback -------------------

SANDBOX_TEST_SETTINGS: dict[str, object] = {
    "seed": 7,
    "scale": "small",
    "start": PINNED_START,  # the sandbox starts at the machine's now unless told; tests pin their world
    "clock_speed": 0.0,  # the world moves only when a test advances the clock
    "status_refresh_seconds": 0.0,
    "job_duration_seconds": 0.0,
}


@pytest.fixture
def sandbox_factory() -> Iterator[Callable[..., Sandbox]]:
    """Starts sandboxes with test settings plus the given overrides (any SandboxConfig field); stops them after."""
    started: list[Sandbox] = []

    def make(**overrides: object) -> Sandbox:
        sandbox = Sandbox(SandboxConfig.from_mapping({**SANDBOX_TEST_SETTINGS, **overrides})).start()
        remember_test_secret(sandbox.client_secret)
        started.append(sandbox)
        return sandbox

    yield make
    for sandbox in started:
        sandbox.stop()


@pytest.fixture
def sandbox(sandbox_factory: Callable[..., Sandbox]) -> Sandbox:
    """A small deterministic world with Marketo's default limits, instant jobs and a frozen clock."""
    return sandbox_factory()


SLOWEST_FIRST = (
    "tests/sync/test_rejected_rows.py",
    "tests/chaos/test_chaos_sample.py",
    "tests/sync/test_schema_drift.py",
    "tests/sync/test_outages.py",
    "tests/sync/test_end_to_end.py",
    "tests/connect/test_warehouse_models.py",
    "tests/sync/test_resume_whole.py",
    "tests/unit/test_resume_in_memory.py",
    "tests/secured/test_secured_cluster.py",
    "tests/connect/test_sync_to_postgres.py",
    "tests/sink/test_crash_recovery.py",
)
"""Modules that take a minute or more: collected first, so that the workers (``make test`` runs three, one module
each at a time) start on them and the short ones fill in around them, instead of one long module running alone
at the end. Order only; nothing else depends on it."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0]
        return SLOWEST_FIRST.index(path) if path in SLOWEST_FIRST else len(SLOWEST_FIRST)

    items.sort(key=rank)
