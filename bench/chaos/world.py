"""Sandbox worlds as server processes, and the settings a sync of one takes.

A world is its config (seed, scale, pinned start, the days the clock moves between syncs); the same config gives
the same world, so the uninterrupted reference run of a config is computed once and every chaos run of that
config is compared with it. The sandbox always gets an explicit ``--start`` (its default follows the machine's
clock), a frozen clock, instant jobs and a rate limit no run reaches.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

PINNED_START = "2026-11-02T15:00:00Z"
SYNC_START_DATE = "2026-01-01T00:00:00Z"
FAST_FLAGS = ("--clock-speed", "0", "--job-seconds", "0", "--status-refresh", "0", "--rate-limit", "100000")


@dataclass(frozen=True)
class WorldConfig:
    """What makes two worlds the same: runs of equal configs are compared with one reference run."""

    seed: int
    scale: str = "tiny"
    start: str = PINNED_START
    advance_days: tuple[float, ...] = ()
    """One more sync per entry, after moving the clock that many days."""

    def describe(self) -> str:
        moves = "".join(f"+{d:g}d" for d in self.advance_days)
        return f"seed {self.seed} {self.scale}{moves}"


class SandboxProcess:
    """``marketo-stream sandbox`` as its own process, as a user runs it; stopped with SIGTERM."""

    def __init__(self, config: WorldConfig, work: Path) -> None:
        self.config = config
        work.mkdir(parents=True, exist_ok=True)
        self._out = work / "sandbox.out"
        command = [
            sys.executable, "-m", "marketo_stream", "sandbox", "--port", "0", "--seed", str(config.seed),
            "--scale", config.scale, "--start", config.start, *FAST_FLAGS,
        ]  # fmt: skip
        with self._out.open("w") as out:
            self._process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=_base_env())
        self.url, self.client_id, self.client_secret = self._wait_for_banner()

    def _wait_for_banner(self, within_s: float = 60) -> tuple[str, str, str]:
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            text = self._out.read_text()
            url = re.search(r"Marketo sandbox at (\S+)", text)
            client = re.search(r"client id:\s+(\S+)", text)
            secret = re.search(r"client secret:\s+(\S+)", text)
            if url and client and secret and "simulated now" in text:
                return url.group(1), client.group(1), secret.group(1)
            if self._process.poll() is not None:
                raise RuntimeError(f"the sandbox exited with {self._process.returncode}")
            time.sleep(0.05)
        raise RuntimeError(f"the sandbox printed no banner within {within_s}s")

    def add_faults(self, rules: Iterable[Mapping[str, Any]]) -> None:
        url = f"{self.url}/_sandbox/faults"
        requests.post(url, json={"faults": list(rules)}, timeout=30).raise_for_status()

    def clear_faults(self) -> None:
        requests.delete(f"{self.url}/_sandbox/faults", timeout=30).raise_for_status()

    def advance(self, days: float) -> None:
        url = f"{self.url}/_sandbox/clock"
        requests.post(url, json={"advance_seconds": days * 86_400}, timeout=60).raise_for_status()

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()


def _base_env() -> dict[str, str]:
    """The caller's environment without any MARKETO_STREAM_* setting of its own."""
    return {k: v for k, v in os.environ.items() if not k.startswith("MARKETO_STREAM_")}


def sync_env(sandbox: SandboxProcess, prefix: str, work: Path, bootstrap: str, registry_url: str) -> dict[str, str]:
    """Settings of a sync of ``sandbox`` into ``prefix``: fast polling, INFO logs (the kill points read them)."""
    return {
        **_base_env(),
        "MARKETO_STREAM_BASE_URL": sandbox.url,
        "MARKETO_STREAM_CLIENT_ID": sandbox.client_id,
        "MARKETO_STREAM_CLIENT_SECRET": sandbox.client_secret,
        "MARKETO_STREAM_KAFKA__TOPIC_PREFIX": prefix,
        "MARKETO_STREAM_BOOTSTRAP_SERVERS": bootstrap,
        "MARKETO_STREAM_SCHEMA_REGISTRY_URL": registry_url,
        "MARKETO_STREAM_MARKETO__POLL_INTERVAL_SECONDS": "0.01",
        "MARKETO_STREAM_MARKETO__WINDOW_SECONDS": "0.2",
        "MARKETO_STREAM_SYNC__WORK_DIR": str(work / "sync"),
        "MARKETO_STREAM_SYNC__START_DATE": SYNC_START_DATE,
        "MARKETO_STREAM_KAFKA__CONNECT_TIMEOUT_SECONDS": "10",
        "MARKETO_STREAM_KAFKA__OUTAGE_TIMEOUT_SECONDS": "20",
        "MARKETO_STREAM_LOG__LEVEL": "info",
    }
