"""The README's capture of the progress view: a real sync of the sandbox, with export jobs that take a few
seconds, shown both ways.

    .venv/bin/python bench/progress_capture.py

It syncs a tiny sandbox world into the in-memory sink (no Kafka needed) with jobs of ``--job-seconds`` on a clock
that runs with real time and a progress interval of ``--interval`` seconds, and prints (1) what a log sees: the
plain lines, a status line whenever nothing else was printed for an interval; (2) what a terminal sees: the live
view as it stood while the most export jobs were under way (taken from the same run).
"""

from __future__ import annotations

import io
import tempfile
import threading
from datetime import timedelta
from pathlib import Path

import click
import requests

from marketo_stream.intervals import format_instant, parse_instant
from marketo_stream.report import Progress
from marketo_stream.sandbox import Sandbox, SandboxConfig
from marketo_stream.settings import load_settings
from marketo_stream.sink.memory import MemorySink
from marketo_stream.sync.runner import SyncRunner


@click.command()
@click.option("--job-seconds", type=float, default=3.0, show_default=True)
@click.option("--interval", type=float, default=1.0, show_default=True)
@click.option("--days", type=int, default=14, show_default=True, help="History to extract.")
def main(job_seconds: float, interval: float, days: int) -> None:
    config = SandboxConfig(
        seed=7, scale="tiny", clock_speed=1.0, job_duration_seconds=job_seconds, status_refresh_seconds=0.0,
        rate_limit_calls=100_000,
    )  # fmt: skip
    with Sandbox(config).start() as sandbox, tempfile.TemporaryDirectory() as work:
        now = parse_instant(requests.get(f"{sandbox.url}/_sandbox/clock", timeout=30).json()["now"])
        settings = load_settings(
            None,
            {
                "MARKETO_STREAM_BASE_URL": sandbox.url,
                "MARKETO_STREAM_CLIENT_ID": sandbox.client_id,
                "MARKETO_STREAM_CLIENT_SECRET": sandbox.client_secret,
                "MARKETO_STREAM_MARKETO__POLL_INTERVAL_SECONDS": "0.5",
                "MARKETO_STREAM_SYNC__WORK_DIR": str(Path(work)),
                "MARKETO_STREAM_SYNC__START_DATE": format_instant(now - timedelta(days=days)),
            },
        )
        log = io.StringIO()
        progress = Progress(log, interactive=False, interval_seconds=interval)
        frames: list[tuple[int, str]] = []
        done = threading.Event()

        def snapshots() -> None:
            while not done.wait(0.5):
                text = progress.render_text(width=110)
                frames.append((text.count("queued") + text.count("processing") + text.count("downloading"), text))

        watcher = threading.Thread(target=snapshots, daemon=True)
        runner = SyncRunner(settings, progress=progress, sink=MemorySink())
        with progress:
            watcher.start()
            try:
                runner.run_once()
            finally:
                done.set()
                runner.close()
        watcher.join()
    click.echo(f"== not on a terminal (stderr of a log), progress interval {interval:g}s, jobs {job_seconds:g}s ==")
    click.echo(log.getvalue().rstrip())
    click.echo("\n== on a terminal: the live view, while jobs were under way ==")
    click.echo(max(frames, key=lambda frame: frame[0])[1].rstrip() if frames else "(no frame)")


if __name__ == "__main__":
    main()
