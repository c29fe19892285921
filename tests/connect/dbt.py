"""Running the dbt project of ``warehouse/`` from tests: its own virtual environment, made when missing."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.connect.warehouse import REPO

DBT_VENV = REPO / ".venv-dbt"
PROJECT = REPO / "warehouse"


def ensure_dbt() -> Path:
    """The dbt executable of ``.venv-dbt``, installed by ``make dbt-venv`` the first time (about 20 s)."""
    if not (DBT_VENV / ".installed").exists():
        made = subprocess.run(["make", "dbt-venv"], cwd=REPO, capture_output=True, text=True)
        assert made.returncode == 0, f"make dbt-venv failed:\n{made.stdout[-2000:]}\n{made.stderr[-2000:]}"
    return DBT_VENV / "bin" / "dbt"


def dbt_build(
    work: Path, *, postgres_port: int, schema: str, variables: Mapping[str, Any], full_refresh: bool = False
) -> str:
    """``dbt build`` (models and their tests) into ``schema``; returns its output, fails the test on an error."""
    command = [
        str(ensure_dbt()),
        "build",
        "--project-dir",
        str(PROJECT),
        "--profiles-dir",
        str(PROJECT),
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
        "--vars",
        json.dumps(dict(variables)),
        *(["--full-refresh"] if full_refresh else []),
    ]
    env = {
        **os.environ,
        "MARKETO_STREAM_WAREHOUSE_PORT": str(postgres_port),
        "MARKETO_STREAM_MODELS_SCHEMA": schema,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    ran = subprocess.run(command, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=600)
    assert ran.returncode == 0, f"dbt build failed:\n{ran.stdout[-6000:]}\n{ran.stderr[-2000:]}"
    return ran.stdout
