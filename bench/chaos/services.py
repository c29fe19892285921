"""A broker and a registry of the harness's own, started by the project's script on free ports with their own
data directory: the broker can be stopped or killed and the registry restarted without touching the services
other people share on the default ports."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from bench.ports import free_port

LOCAL_SCRIPT = Path(__file__).resolve().parents[2] / "infra" / "local.py"


class ServiceError(RuntimeError):
    """The project's script could not start or stop one of the harness's services."""


@dataclass
class Services:
    """Kafka (KRaft) and Apicurio (KafkaSQL storage in that broker), both the harness's own."""

    local_dir: Path
    kafka_port: int
    controller_port: int
    registry_port: int
    management_port: int

    @classmethod
    def start(cls, local_dir: Path) -> Services:
        local_dir.mkdir(parents=True, exist_ok=True)
        found = cls(local_dir, free_port(), free_port(), free_port(), free_port())
        found.infra("up", "kafka,registry")
        return found

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def registry_url(self) -> str:
        return f"http://127.0.0.1:{self.registry_port}/apis/ccompat/v7"

    def infra(self, command: str, services: str) -> None:
        env = {
            **os.environ,
            "MARKETO_STREAM_LOCAL_DIR": str(self.local_dir),
            "MARKETO_STREAM_KAFKA_PORT": str(self.kafka_port),
            "MARKETO_STREAM_CONTROLLER_PORT": str(self.controller_port),
            "MARKETO_STREAM_REGISTRY_PORT": str(self.registry_port),
            "MARKETO_STREAM_REGISTRY_MGMT_PORT": str(self.management_port),
        }
        done = subprocess.run(
            [sys.executable, str(LOCAL_SCRIPT), command, "--services", services],
            env=env,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise ServiceError(f"infra/local.py {command} {services}: {done.stdout}{done.stderr}")

    def stop_broker(self, *, hard: bool) -> None:
        """``hard``: SIGKILL the broker's process group (a crash); otherwise the script's clean stop."""
        if not hard:
            self.infra("down", "kafka")
            return
        pid = int((self.local_dir / "run" / "kafka.pid").read_text().strip())
        os.killpg(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
        raise ServiceError(f"broker pid {pid} still alive after SIGKILL")

    def start_broker(self) -> None:
        self._up("kafka")

    def restart_registry(self, *, load_timeout_s: float = 300) -> None:
        """Stops and starts the registry, then waits until it holds every subject it held before: the script
        calls it ready when it answers, while Apicurio may still be reading its KafkaSQL journal back (a run
        meeting it then stops with 5, which is documented; the rerun is meant for a registry fully back)."""
        before = self._subjects()
        self.infra("down", "registry")
        self._up("registry")
        deadline = time.monotonic() + load_timeout_s
        while len(self._subjects() & before) < len(before):
            if time.monotonic() > deadline:
                raise ServiceError(f"the registry held {len(before)} subjects before its restart, not all after")
            time.sleep(1)

    def _subjects(self) -> set[str]:
        try:
            answer = requests.get(f"{self.registry_url}/subjects", timeout=30)
        except requests.RequestException:
            return set()
        return set(answer.json()) if answer.status_code == 200 else set()

    def _up(self, service: str, attempts: int = 3) -> None:
        """Starts ``service``, trying again when the script's readiness calls time out on a loaded machine (a
        second ``up`` finds the service running and ready, and leaves it)."""
        for attempt in range(attempts):
            try:
                self.infra("up", service)
                return
            except ServiceError:
                if attempt == attempts - 1:
                    raise
                time.sleep(2)

    def close(self) -> None:
        self.infra("down", "kafka,registry")
