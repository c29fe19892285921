"""A worker that dies mid-session costs ``make test`` the one test it was running, never the session: the crashed
test is reported failed once, every other test runs once, and the session ends (``tests/xdist_scheduling.py``)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from tests.xdist_scheduling import CrashSafeLoadScope

REPO = Path(__file__).resolve().parents[2]
PYTEST = (sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider")
SESSION = {
    "test_a_first.py": "def test_one(): pass\ndef test_two(): pass\ndef test_three(): pass\n",
    "test_b_crash.py": "import os\ndef test_dies(): os._exit(1)\ndef test_after(): pass\n",
    "test_c_single.py": "def test_alone(): pass\n",
    "test_d_last.py": "import time\ndef test_slow(): time.sleep(0.5)\ndef test_next(): pass\n",
}
"""A worker ends in the second module, after finishing the first: with pytest-xdist 3.8.0's own scheduler this
session runs the crashing test again in every replacement worker, then waits forever."""
OWN_ENVIRONMENT = {name: value for name, value in os.environ.items() if not name.startswith("PYTEST_")}
"""The inner session is run as ``make test`` runs, whatever options or xdist worker the outer one has."""


def test_a_crashed_worker_costs_its_test_and_the_session_ends(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    for name, text in SESSION.items():
        (tmp_path / name).write_text(text)
    for workers in ("1", "2"):
        done = subprocess.run(
            [*PYTEST, "-n", workers, "--dist", "loadscope", "-p", "tests.xdist_scheduling"],
            cwd=tmp_path,
            env={**OWN_ENVIRONMENT, "PYTHONPATH": str(REPO)},
            capture_output=True,
            text=True,
            timeout=120,
        )
        summary = done.stdout.strip().splitlines()[-1]
        assert re.search(r"\b1 failed, 7 passed in", summary), done.stdout + done.stderr
        assert "FAILED test_b_crash.py::test_dies - worker 'gw" in done.stdout


class _Config:
    """What the scheduler reads of pytest's config: two workers, modules largest first."""

    class option:
        loadscopereorder = True

    def getvalue(self, name: str) -> list[str]:
        assert name == "tx"
        return ["2*popen"]


class _Worker:
    """A worker as the scheduler sees it; once dead, its channel refuses every command, as execnet's does."""

    def __init__(self, name: str) -> None:
        self.gateway = SimpleNamespace(id=name)
        self.shutting_down = False
        self.alive = True
        self.given: list[int] = []

    def send_runtest_some(self, indexes: list[int]) -> None:
        self._send()
        self.given.extend(indexes)

    def shutdown(self) -> None:
        self._send()
        self.shutting_down = True

    def _send(self) -> None:
        if not self.alive:
            raise OSError("cannot send (already closed?)")


def test_work_handed_to_a_worker_that_died_before_its_last_result_was_read_goes_back_on_the_queue() -> None:
    collection = [f"test_m{module}.py::test_one" for module in range(8)]
    scheduler = CrashSafeLoadScope(cast(Any, _Config()))
    first, second = _Worker("gw0"), _Worker("gw1")
    for worker in (first, second):
        scheduler.add_node(cast(Any, worker))
        scheduler.add_node_collection(cast(Any, worker), collection)
    scheduler.schedule()
    done, crashed = first.given[0], first.given[1]

    first.alive = False  # its first test's result is read after it died in the second
    scheduler.mark_test_complete(cast(Any, first), done)  # hands it more work: the send fails, nothing raised
    assert scheduler.remove_node(cast(Any, first)) == collection[crashed]

    queued = {nodeid for unit in scheduler.workqueue.values() for nodeid, ran in unit.items() if not ran}
    with_second = {collection[index] for index in second.given}
    assert queued | with_second == set(collection) - {collection[done], collection[crashed]}
    assert not queued & with_second


def test_a_test_stuck_where_no_signal_reaches_it_fails_by_name_and_the_session_goes_on(tmp_path: Path) -> None:
    """pytest-timeout as ``pyproject.toml`` sets it (its watchdog thread): a test that SIGALRM cannot stop (here the
    signal is blocked, as it effectively is for a thread stuck in C code) still ends: its worker is ended and the test
    reported as the one it crashed on."""
    (tmp_path / "test_a_stuck.py").write_text(
        "import signal, time\n"
        "def test_stuck():\n"
        "    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})\n"
        "    time.sleep(60)\n"
    )
    (tmp_path / "test_b_after.py").write_text("def test_after(): pass\n")
    project = ("-c", str(REPO / "pyproject.toml"), "--rootdir", str(tmp_path), "-o", "timeout=2")
    done = subprocess.run(
        [*PYTEST, *project, "-n", "1", "--dist", "loadscope", "-p", "tests.xdist_scheduling", str(tmp_path)],
        cwd=tmp_path,
        env={**OWN_ENVIRONMENT, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=50,
    )
    assert re.search(r"\b1 failed, 1 passed in", done.stdout.strip().splitlines()[-1]), done.stdout + done.stderr
    assert "FAILED test_a_stuck.py::test_stuck - worker 'gw0' crashed while running" in done.stdout
