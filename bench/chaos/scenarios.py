"""What one chaos run does, and the uninterrupted reference run it is compared with.

Every run: a fresh sandbox world (its own process) and a fresh topic prefix; the syncs its world config calls for
(the clock moved between them); the disturbance on one of them; reruns until one ends 0; then the comparison of
every topic with the reference of the same world config (computed once, reused) and with the sandbox's truth.
A run's random choices come from one seed, printed with any run that is not exact, so it can be replayed.
"""

from __future__ import annotations

import random
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests
from confluent_kafka.schema_registry import SchemaRegistryClient

from bench.chaos.compare import Comparison, compare_tables, tables_of, truth_mismatches
from bench.chaos.faults import Fault
from bench.chaos.kills import Attempt, Line, draw_kill, run_sync
from bench.chaos.readback import SnapshotReader, delete_prefix, read_prefix
from bench.chaos.services import Services
from bench.chaos.world import SandboxProcess, WorldConfig, sync_env
from tests.sync.test_end_to_end import differences
from tests.sync.topics import Published

KAFKA = 5
RERUNS_KILLED = (0, 2)
"""How many reruns after the first kill are killed again (drawn uniformly in this range)."""
WORLD_SEEDS = (1, 2, 3, 4)
"""The worlds the kill runs cycle through; each has one reference run."""


@dataclass
class Reference:
    """An uninterrupted run of a world config: its tables and each sync's stderr timeline."""

    tables: dict[str, list[Published]]
    timelines: list[list[Line]]
    truth: Comparison


@dataclass
class RunResult:
    scenario: str
    world: str
    seed: int
    kills: int = 0
    attempts: list[str] = field(default_factory=list)
    """Each sync process: how it ended ("killed at <point>" or "exit N")."""
    against_reference: Comparison = field(default_factory=Comparison)
    against_truth: Comparison = field(default_factory=Comparison)
    problems: list[str] = field(default_factory=list)
    """An exit status the README does not document for the case, a rerun that did not finish, an error."""
    took: float = 0.0
    work: Path | None = None
    """Where the run's sync logs are written; kept with its topics when the run is not exact."""

    @property
    def exact(self) -> bool:
        return not (self.against_reference or self.against_truth or self.problems)


class Harness:
    def __init__(self, services: Services, work: Path, *, keep: bool = False) -> None:
        self.services = services
        self.work = work
        self.keep = keep
        self._references: dict[WorldConfig, Reference] = {}
        self._locks: dict[WorldConfig, threading.Lock] = {}
        self._guard = threading.Lock()

    # -- plumbing ------------------------------------------------------------------------------------------------

    def _registry(self) -> SchemaRegistryClient:
        return SchemaRegistryClient({"url": self.services.registry_url})

    def _new_run(self, config: WorldConfig, label: str) -> tuple[SandboxProcess, str, dict[str, str], Path]:
        prefix = f"chaos{uuid.uuid4().hex[:10]}"
        work = self.work / f"{label}-{prefix}"
        sandbox = SandboxProcess(config, work)
        env = sync_env(sandbox, prefix, work, self.services.bootstrap_servers, self.services.registry_url)
        return sandbox, prefix, env, work

    def _finish(self, sandbox: SandboxProcess, prefix: str, work: Path, *, keep: bool = False) -> None:
        """Stops the sandbox; drops the topics and files unless kept (a run not exact keeps them, with the
        sandbox's request log, for its diagnosis)."""
        if keep:
            try:
                answer = requests.get(f"{sandbox.url}/_sandbox/requests", timeout=60)
                (work / "sandbox-requests.json").write_text(answer.text)
            except (requests.RequestException, OSError):
                pass
        sandbox.stop()
        if not (self.keep or keep):
            delete_prefix(self.services.bootstrap_servers, prefix)
            shutil.rmtree(work, ignore_errors=True)

    def _read(self, sandbox: SandboxProcess, prefix: str) -> tuple[dict[str, list[Published]], Comparison]:
        sandbox.clear_faults()
        registry = self._registry()
        records = read_prefix(self.services.bootstrap_servers, registry, prefix)
        reader = SnapshotReader(self.services.bootstrap_servers, registry, records)
        truth = truth_mismatches(differences(sandbox, reader, registry, prefix))  # type: ignore[arg-type]
        return tables_of(records, prefix), truth

    # -- the reference -------------------------------------------------------------------------------------------

    def reference(self, config: WorldConfig) -> Reference:
        with self._guard:
            lock = self._locks.setdefault(config, threading.Lock())
        with lock:
            if config not in self._references:
                self._references[config] = self._reference(config)
            return self._references[config]

    def _reference(self, config: WorldConfig) -> Reference:
        sandbox, prefix, env, work = self._new_run(config, "reference")
        try:
            timelines = []
            for advance in (None, *config.advance_days):
                if advance:
                    sandbox.advance(advance)
                attempt = run_sync(env)
                if attempt.status != 0:
                    ended = f"ended {attempt.status}:\n{attempt.tail()}"
                    raise RuntimeError(f"reference run of {config.describe()} {ended}")
                timelines.append(attempt.lines)
            tables, truth = self._read(sandbox, prefix)
            return Reference(tables, timelines, truth)
        finally:
            self._finish(sandbox, prefix, work)

    # -- the runs ------------------------------------------------------------------------------------------------

    def _run(
        self,
        scenario: str,
        config: WorldConfig,
        seed: int,
        disturbed: Callable[[RunResult, SandboxProcess, dict[str, str], list[Line]], None],
    ) -> RunResult:
        """The syncs of ``config``, the last one ``disturbed`` (which reruns until a sync ends 0), compared."""
        started = time.monotonic()
        result = RunResult(scenario, config.describe(), seed)
        try:
            reference = self.reference(config)
            sandbox, prefix, env, work = self._new_run(config, scenario.split()[0])
        except Exception as exc:  # a broken harness run is reported, not a reason to lose the others' figures
            result.problems.append(f"setup: {exc!r}")
            result.took = time.monotonic() - started
            return result
        result.work = work
        try:
            syncs = (None, *config.advance_days)
            for index, advance in enumerate(syncs):
                if advance:
                    sandbox.advance(advance)
                if index < len(syncs) - 1:
                    self._complete(result, env, "an undisturbed sync before")
                else:
                    disturbed(result, sandbox, env, reference.timelines[index])
            tables, truth = self._read(sandbox, prefix)
            result.against_reference = compare_tables(reference.tables, tables)
            result.against_truth = truth
            if reference.truth:
                result.problems.append("the reference itself differs from the truth")
        except Exception as exc:
            result.problems.append(f"{type(exc).__name__}: {exc}")
        finally:
            self._finish(sandbox, prefix, work, keep=not result.exact)
        result.took = time.monotonic() - started
        return result

    def _attempt(self, result: RunResult, attempt: Attempt) -> Attempt:
        self._log(result, attempt)
        if attempt.killed:
            result.kills += 1
            assert attempt.kill is not None
            result.attempts.append(f"killed at {attempt.kill.describe()}")
        else:
            result.attempts.append(f"exit {attempt.status}")
        return attempt

    @staticmethod
    def _log(result: RunResult, attempt: Attempt) -> None:
        """The sync's stderr and stdout, numbered in the order the syncs ran."""
        if result.work is None:
            return
        n = len(list(result.work.glob("sync-*.log"))) + 1
        lines = [f"[{line.at:8.3f}s {line.phase}] {line.text}" for line in attempt.lines]
        (result.work / f"sync-{n}.log").write_text("\n".join([*lines, "--- stdout", attempt.stdout]))

    def _complete(self, result: RunResult, env: dict[str, str], why: str) -> None:
        attempt = self._attempt(result, run_sync(env))
        if attempt.status != 0:
            result.problems.append(f"{why} ended {attempt.status}:\n{attempt.tail()}")
            raise RuntimeError(f"{why} did not finish")

    def kill_run(self, config: WorldConfig, seed: int, scenario: str) -> RunResult:
        """SIGKILL at a drawn point, 0-2 reruns killed again, a last rerun to the end."""
        rng = random.Random(seed)

        def disturbed(result: RunResult, _: SandboxProcess, env: dict[str, str], timeline: list[Line]) -> None:
            for _round in range(1 + rng.randint(*RERUNS_KILLED)):
                attempt = self._attempt(result, run_sync(env, kill=draw_kill(rng, timeline)))
                if not attempt.killed and attempt.status != 0:
                    result.problems.append(f"a run killed nowhere ended {attempt.status}:\n{attempt.tail()}")
            self._complete(result, env, "the last rerun")

        return self._run(scenario, config, seed, disturbed)

    def fault_run(self, config: WorldConfig, fault: Fault, seed: int) -> RunResult:
        """The fault scripted on the sandbox: the run ends with a documented status; the rerun without it, 0."""

        def disturbed(result: RunResult, sandbox: SandboxProcess, env: dict[str, str], _: list[Line]) -> None:
            sandbox.add_faults(fault.rules)
            attempt = self._attempt(result, run_sync(env))
            if attempt.status not in fault.statuses:
                documented = sorted(fault.statuses)
                result.problems.append(f"ended {attempt.status}, documented {documented}:\n{attempt.tail()}")
            sandbox.clear_faults()
            if attempt.status != 0:
                self._complete(result, env, "the rerun without the fault")

        return self._run(f"fault: {fault.name}", config, seed, disturbed)

    def service_run(self, config: WorldConfig, seed: int, what: str) -> RunResult:
        """``what``: "broker stopped", "broker kill -9" or "registry restarted", at a drawn point of the run.
        The run may finish (0) or stop with 5; the services come back; a rerun ends 0. Never run beside others."""
        rng = random.Random(seed)

        def disturb() -> None:
            if what == "registry restarted":
                self.services.restart_registry()
            else:
                self.services.stop_broker(hard=what == "broker kill -9")

        def disturbed(result: RunResult, _: SandboxProcess, env: dict[str, str], timeline: list[Line]) -> None:
            fired: list[bool] = []
            point = draw_kill(rng, [line for line in timeline if line.phase not in ("finish",)])
            attempt = run_sync(env, kill=point, on_kill_point=lambda: (fired.append(True), disturb()))
            self._log(result, attempt)
            result.attempts.append(f"{what} at {point.describe()}: exit {attempt.status}" if fired else "undisturbed")
            result.kills += len(fired)
            if what.startswith("broker") and fired:
                self.services.start_broker()
            if attempt.status not in (0, KAFKA):
                result.problems.append(f"ended {attempt.status}, documented [0, 5]:\n{attempt.tail()}")
            if attempt.status != 0:
                self._complete(result, env, f"the rerun after the {what.split()[0]} came back")

        return self._run(what, config, seed, disturbed)
