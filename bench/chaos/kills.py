"""Running ``marketo-stream sync`` as a subprocess and SIGKILLing it at a point drawn across every phase.

A kill point is anchored on what the sync prints on stderr (its progress steps and the export manager's INFO
lines) rather than on wall time, so it lands in the same phase on a busy machine as on an idle one. The phase is
drawn first, each phase equally likely (a bulk download or a commit counts as much as a long listing), then one
of that phase's lines in the reference run, then a delay: half the time within 30 ms of the line (a progress
step follows the commit it reports, a "verified" line the download), otherwise anywhere up to the next line.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

START = "start"
"""The phase before the first line: imports, settings, the first token."""

PHASES: tuple[tuple[str, str], ...] = (
    ("reading Marketo metadata", "metadata"),
    ("connecting to Kafka", "kafka setup"),
    ("reading the sync state", "kafka setup"),
    ("records were written with", "kafka setup"),
    ("registering schemas", "kafka setup"),
    ("deleted leads since", "deleted leads"),
    ("marketo_stream.bulk: export activities:", "activity download"),
    ("] activities:", "activity download"),
    ("] activities", "activity commit"),
    ("marketo_stream.bulk: export leads:", "lead download"),
    ("] leads:", "lead download"),
    ("] leads", "lead commit"),
    ("marketo_stream.bulk: export custom_object", "custom object download"),
    ("] custom_object_", "custom object commit"),
    ("this run wrote with", "finish"),
    ("sync complete", "finish"),
)
"""(text in the line, phase it opens), first match wins; any other progress step opens "entities", and a line
matching nothing (an HTTP log line, a warning) stays in the phase it came in."""


def phase_of(text: str, current: str) -> str:
    for needle, phase in PHASES:
        if needle in text:
            return phase
    if text.startswith("[") and "s] " in text[:14]:
        return "entities"
    return current


@dataclass(frozen=True)
class Line:
    at: float
    """Seconds since the process started."""
    text: str
    phase: str


@dataclass(frozen=True)
class KillPoint:
    """SIGKILL ``delay`` seconds after the ``occurrence``-th line (0-based) of ``phase``; for ``START``, after the
    process started."""

    phase: str
    occurrence: int
    delay: float

    def describe(self) -> str:
        return f"{self.phase}#{self.occurrence}+{self.delay * 1000:.0f}ms"


@dataclass
class Attempt:
    """One sync process: its exit status (None when killed) and what it printed."""

    status: int | None
    killed: bool
    took: float
    lines: list[Line] = field(default_factory=list)
    stdout: str = ""
    kill: KillPoint | None = None

    def tail(self, n: int = 12) -> str:
        return "\n".join(line.text for line in self.lines[-n:])


def draw_kill(rng: random.Random, timeline: list[Line]) -> KillPoint:
    """A kill point: a phase of the reference timeline (all equally likely), a line of it, a delay."""
    phases = [START, *dict.fromkeys(line.phase for line in timeline)]
    phase = rng.choice(phases)
    if phase == START:
        first = timeline[0].at if timeline else 1.0
        return KillPoint(START, 0, rng.uniform(0, first))
    indexes = [i for i, line in enumerate(timeline) if line.phase == phase]
    pick = rng.randrange(len(indexes))
    index = indexes[pick]
    gap = timeline[index + 1].at - timeline[index].at if index + 1 < len(timeline) else 0.5
    delay = rng.uniform(0, 0.03) if rng.random() < 0.5 else rng.uniform(0, max(gap, 0.001))
    return KillPoint(phase, pick, delay)


def run_sync(
    env: dict[str, str],
    *,
    kill: KillPoint | None = None,
    within_s: float = 600,
    on_kill_point: object | None = None,
) -> Attempt:
    """Runs one sync; with ``kill``, SIGKILLs it at that point unless it ends first.

    ``on_kill_point`` (a callable) is called instead of the SIGKILL when the point is reached, for disruptions
    of the services rather than of the sync; the process then runs to its end.
    """
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "marketo_stream", "sync"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    lines: list[Line] = []
    reached = threading.Event()
    counts: dict[str, int] = {}
    if kill is not None and kill.phase == START:
        reached.set()

    def read_stderr() -> None:
        assert process.stderr is not None
        phase = START
        for raw in iter(process.stderr.readline, ""):
            text = raw.rstrip("\n")
            phase = phase_of(text, phase)
            lines.append(Line(time.monotonic() - started, text, phase))
            if kill is not None and phase == kill.phase:
                if counts.get(phase, 0) == kill.occurrence:
                    reached.set()
                counts[phase] = counts.get(phase, 0) + 1

    stdout: list[str] = []

    def read_stdout() -> None:
        assert process.stdout is not None
        stdout.append(process.stdout.read())

    readers = [threading.Thread(target=read_stderr, daemon=True), threading.Thread(target=read_stdout, daemon=True)]
    for reader in readers:
        reader.start()
    killed = False
    failed: BaseException | None = None
    if kill is not None:
        while not reached.wait(0.02):
            if process.poll() is not None:
                break
        if reached.is_set() and process.poll() is None:
            time.sleep(kill.delay)
            if process.poll() is None:
                if callable(on_kill_point):
                    try:
                        on_kill_point()
                    except Exception as exc:  # the sync still runs: wait for it, then tell
                        failed = exc
                else:
                    os.killpg(process.pid, signal.SIGKILL)
                    killed = True
    try:
        status = process.wait(timeout=max(1.0, within_s - (time.monotonic() - started)))
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise RuntimeError(f"sync still running after {within_s}s") from None
    for reader in readers:
        reader.join(timeout=10)
    if failed is not None:
        raise failed
    return Attempt(
        None if killed else status, killed, time.monotonic() - started, lines, "".join(stdout), kill if killed else None
    )
