"""Process bookkeeping shared by every service: pid files, logs, start with polled readiness, stop, status.

Services run in their own session (process group), so that stopping one ends its children too and a
terminal's Ctrl-C never reaches them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from localinfra.config import LOCAL, READY_TIMEOUT
from localinfra.errors import InfraError
from localinfra.probes import port_open


def _nothing() -> None:
    return None


@dataclass(frozen=True)
class Service:
    name: str
    port: int
    command: Callable[[], list[str]]
    prepare: Callable[[], None]
    ready: Callable[[], bool]
    after_ready: Callable[[], None]
    describe: str
    env: Callable[[], dict[str, str]] = dict
    """Extra environment of the process."""
    stop_signal: int = signal.SIGTERM
    requires: Callable[[], None] = _nothing
    """Raises InfraError, saying what to start first, when a service this one needs is not there."""

    @property
    def pid_file(self) -> Path:
        return LOCAL / "run" / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return LOCAL / "logs" / f"{self.name}.log"

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if alive(pid) else None


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child counts as gone
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except OSError:
        return True


def start(svc: Service) -> None:
    svc.requires()
    if svc.pid() is not None:
        if svc.ready():
            print(f"{svc.name}: already running (pid {svc.pid()}): {svc.describe}")
            return
    elif port_open(svc.port):
        if svc.ready():
            print(f"{svc.name}: something else already serves port {svc.port}; using it as is")
            svc.after_ready()
            return
        raise InfraError(
            f"port {svc.port} is taken by another process; free it or set another port "
            f"(see the environment variables in infra/local.py)"
        )
    if svc.pid() is None:
        svc.prepare()
        for sub in ("logs", "run"):
            (LOCAL / sub).mkdir(parents=True, exist_ok=True)
        with open(svc.log_file, "ab") as log:
            log.write(f"\n---- start {time.strftime('%Y-%m-%dT%H:%M:%S')} ----\n".encode())
            log.flush()
            proc = subprocess.Popen(
                svc.command(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=LOCAL,
                env={**os.environ, **svc.env()},
                start_new_session=True,
            )
        svc.pid_file.write_text(str(proc.pid))
        print(f"{svc.name}: starting (pid {proc.pid}), log {svc.log_file}", flush=True)
    started = time.monotonic()
    while time.monotonic() - started < READY_TIMEOUT:
        if svc.pid() is None:
            raise InfraError(f"{svc.name} exited during start-up; see {svc.log_file}")
        if svc.ready():
            svc.after_ready()
            print(f"{svc.name}: ready in {time.monotonic() - started:.1f}s: {svc.describe}", flush=True)
            return
        time.sleep(0.25)
    raise InfraError(f"{svc.name} not ready after {READY_TIMEOUT}s; see {svc.log_file}")


def stop(svc: Service) -> None:
    pid = svc.pid()
    if pid is None:
        svc.pid_file.unlink(missing_ok=True)
        print(f"{svc.name}: not running")
        return
    os.killpg(pid, svc.stop_signal)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and alive(pid):
        time.sleep(0.2)
    if alive(pid):
        os.killpg(pid, signal.SIGKILL)
        while alive(pid):
            time.sleep(0.1)
    svc.pid_file.unlink(missing_ok=True)
    print(f"{svc.name}: stopped (pid {pid})")


def status(svc: Service) -> bool:
    pid = svc.pid()
    if pid is None:
        print(f"{svc.name}: down")
        return False
    state = "ready" if svc.ready() else "starting"
    print(f"{svc.name}: {state} (pid {pid}): {svc.describe}")
    return state == "ready"
