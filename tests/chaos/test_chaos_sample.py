"""A sample of the chaos suite (``make chaos`` runs the whole of it): a first sync SIGKILLed at fixed seeds and
rerun, a scripted Marketo fault and a registry restarted mid-run each leave every topic equal, field by field, to
an uninterrupted run of the same world and to the sandbox's truth. ``test_compare.py`` shows the comparison
failing on a broken run.

The broker and registry are the harness's own (free ports, their own data directory), because one case restarts
the registry."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench.chaos.faults import FAULTS
from bench.chaos.scenarios import Harness, RunResult
from bench.chaos.services import Services
from bench.chaos.table import details
from bench.chaos.world import WorldConfig

pytestmark = pytest.mark.kafka

WORLD = WorldConfig(seed=1)
KILL_SEEDS = (3, 12)
"""Fixed seeds: each draws its kill points (phase, line, delay) as ``make chaos`` would for that seed."""


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    work = tmp_path_factory.mktemp("chaos")
    services = Services.start(work / "services")
    try:
        yield Harness(services, work / "runs")
    finally:
        services.close()


def assert_exact(result: RunResult) -> None:
    assert result.exact, details([result])


@pytest.mark.parametrize("seed", KILL_SEEDS)
def test_a_first_sync_killed_and_rerun_equals_the_uninterrupted_run(harness: Harness, seed: int) -> None:
    result = harness.kill_run(WORLD, seed, "kill")
    assert result.kills >= 1, result.attempts
    assert_exact(result)


def test_a_fault_stops_the_run_with_its_documented_status_and_the_rerun_loses_nothing(harness: Harness) -> None:
    fault = next(f for f in FAULTS if f.name == "HTTP 500 persisting")
    result = harness.fault_run(WORLD, fault, seed=0)
    assert result.attempts == ["exit 7", "exit 0"]
    assert_exact(result)


def test_a_registry_restarted_mid_run_loses_nothing(harness: Harness) -> None:
    result = harness.service_run(WORLD, 7, "registry restarted")
    assert result.kills == 1, result.attempts
    assert_exact(result)
