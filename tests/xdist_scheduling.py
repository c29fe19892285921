"""pytest-xdist's ``--dist loadscope`` with its two hangs after a worker crash mended (pytest-xdist 3.8.0).

``make test`` runs the suite in three workers, one test module per worker at a time. When a worker dies (a test
that ends the process, a segfault, pytest-timeout's watchdog), xdist reports the test it was running as failed and
starts a replacement, and 3.8.0's scheduler can then leave the whole session waiting forever:

- it puts every module the dead worker ever ran back on the queue, finished ones included; handed out later, such a
  module sends the worker an empty list of tests, so no test ends there and nothing asks the scheduler for more;
- a worker runs a test only once it knows the next one (or is told to stop), and a worker given a module of one
  test while the queue still holds others is never given more nor told to stop.

Upstream: pytest-xdist issues 1323, 1327 and 1378. This scheduler puts back only the unfinished modules of a dead
worker, does not run the test that crashed again (xdist has already reported it failed), and always leaves a worker
two tests ahead or told to stop. Work handed to a worker that has died while its last results are still being read
fails to send; it stays in that worker's workload and goes back on the queue with it. Loaded by
``tests/conftest.py``; ``tests/unit/test_xdist_scheduling.py`` runs a crashing session through it.
"""

from __future__ import annotations

from typing import Any

import pytest
from xdist.scheduler import LoadScopeScheduling
from xdist.workermanage import WorkerController


class CrashSafeLoadScope(LoadScopeScheduling):
    def remove_node(self, node: WorkerController) -> str | None:
        workload = self.assigned_work.pop(node)
        if not self._pending_of(workload):
            return None
        crashed = next(nodeid for unit in workload.values() for nodeid, done in unit.items() if not done)
        for scope, unit in workload.items():
            unit.pop(crashed, None)  # reported failed by xdist; running it again would only crash again
            if not all(unit.values()):
                self.workqueue[scope] = unit
        for other in self.assigned_work:
            self._reschedule(other)
        return crashed

    def _reschedule(self, node: WorkerController) -> None:
        if node.shutting_down:
            return
        try:
            if self.workqueue and self._pending_of(self.assigned_work[node]) <= 2:
                self._assign_work_unit(node)
            while self.workqueue and self._pending_of(self.assigned_work[node]) < 2:
                self._assign_work_unit(node)
            if not self.workqueue:
                node.shutdown()  # the worker runs what it holds, then stops
        except OSError:
            # The worker died before its last results were read: its channel is closed. What was just handed to it
            # is in its workload, which its coming "errordown" event puts back on the queue.
            return


@pytest.hookimpl(optionalhook=True)  # ``-p no:xdist`` runs without it
def pytest_xdist_make_scheduler(config: Any, log: Any) -> LoadScopeScheduling | None:
    if config.getvalue("dist") == "loadscope":
        return CrashSafeLoadScope(config, log)
    return None
