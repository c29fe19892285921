"""``marketo-stream sandbox``: serves until stopped, prints where and with which credentials, loads fault files."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import requests

from marketo_stream.sandbox import PINNED_START


def test_the_sandbox_command_serves_with_the_printed_credentials_and_the_faults_file(tmp_path: Path) -> None:
    faults = tmp_path / "faults.json"
    faults.write_text(json.dumps({"faults": [{"path": "types\\.json$", "code": "608", "times": 1}]}))
    command = [
        sys.executable,
        "-m",
        "marketo_stream",
        "sandbox",
        "--scale",
        "tiny",
        "--start",
        PINNED_START,
        "--clock-speed",
        "0",
    ]
    server = subprocess.Popen([*command, "--faults", str(faults)], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        lines = [server.stdout.readline() for _ in range(3)]
        url = re.search(r"at (http://127\.0\.0\.1:\d+)", lines[0])
        client_id = re.search(r"client id:\s+(\S+)", lines[1])
        secret = re.search(r"client secret:\s+(\S+)", lines[2])
        assert url and client_id and secret, lines
        params = {"grant_type": "client_credentials", "client_id": client_id[1], "client_secret": secret[1]}
        token = requests.get(f"{url[1]}/identity/oauth/token", params=params, timeout=10).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        first = requests.get(f"{url[1]}/rest/v1/activities/types.json", headers=headers, timeout=10).json()
        second = requests.get(f"{url[1]}/rest/v1/activities/types.json", headers=headers, timeout=10).json()
        assert first["errors"][0]["code"] == "608"
        assert second["success"] is True
    finally:
        server.terminate()
        assert server.wait(timeout=10) == 0
