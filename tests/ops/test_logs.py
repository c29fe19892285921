"""Log lines: text or JSON on stderr, secrets masked in both, every line naming its run and what it was about."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from marketo_stream import logs
from marketo_stream.cli import main
from marketo_stream.redaction import remember_secret
from marketo_stream.sandbox import Sandbox
from tests.bulk.helpers import Started, activity_window, make_exporter

ENV = {"MARKETO_STREAM_BASE_URL": "http://127.0.0.1:1", "MARKETO_STREAM_CLIENT_ID": "id",
       "MARKETO_STREAM_CLIENT_SECRET": "secret-value"}  # fmt: skip


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """A handler like the one configure_logging installs, writing to a buffer."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.addFilter(logs.ContextFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        handler.setFormatter(logging.Formatter())


def _use(buffer: io.StringIO, log_format: logs.LogFormat) -> None:
    handler = next(h for h in logging.getLogger().handlers if getattr(h, "stream", None) is buffer)
    handler.setFormatter(logs.formatter(log_format))


def _json_lines(buffer: io.StringIO) -> list[dict[str, str]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_json_lines_carry_run_table_and_export_id(captured: io.StringIO) -> None:
    _use(captured, "json")
    with logs.run("run-1"), logs.bind(table="activity_fill_out_form"):
        logging.getLogger("marketo_stream.sync").info("exporting %d days", 3)
        with logs.bind(export_id="e-42"):
            logging.getLogger("marketo_stream.bulk").warning("job failed")
    logging.getLogger("marketo_stream.sync").info("outside")

    first, second, third = _json_lines(captured)
    assert set(first) == {"timestamp", "level", "logger", "message", "run_id", "table"}
    assert first["message"] == "exporting 3 days" and first["level"] == "info"
    assert first["logger"] == "marketo_stream.sync" and first["run_id"] == "run-1"
    assert first["timestamp"].endswith("+00:00")
    assert second["export_id"] == "e-42" and second["table"] == "activity_fill_out_form"
    assert "run_id" not in third and "table" not in third


def test_text_lines_end_with_the_bound_fields(captured: io.StringIO) -> None:
    _use(captured, "text")
    with logs.run("r"), logs.bind(table="lead", export_id=None):
        logging.getLogger("marketo_stream.sync").warning("slow")
    assert captured.getvalue() == "WARNING marketo_stream.sync: slow [run_id=r table=lead]\n"


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_secrets_are_masked_in_both_formats_tracebacks_included(log_format: logs.LogFormat) -> None:
    remember_secret("hush-hush-secret")
    buffer = io.StringIO()
    logs.configure_logging("info", log_format)
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "marketo-stream")
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(buffer)
    try:
        log = logging.getLogger("marketo_stream.test")
        log.info("calling https://x/identity?client_secret=hush-hush-secret")
        try:
            raise RuntimeError("token hush-hush-secret refused")
        except RuntimeError:
            log.exception("failed")
    finally:
        handler.setStream(previous)
        logs.configure_logging()
    assert "hush-hush-secret" not in buffer.getvalue()
    if log_format == "json":
        lines = _json_lines(buffer)
        assert "***" in lines[0]["message"] and "RuntimeError" in lines[1]["exception"]


def test_librdkafka_lines_from_another_thread_carry_the_run_id(captured: io.StringIO) -> None:
    _use(captured, "json")
    with logs.run("run-7"):
        thread = threading.Thread(target=lambda: logging.getLogger("marketo_stream.librdkafka").warning("broker down"))
        thread.start()
        thread.join()
    (line,) = _json_lines(captured)
    assert line["logger"] == "marketo_stream.librdkafka" and line["run_id"] == "run-7"


def _leaves(command: click.Command, path: str = "") -> Iterator[tuple[str, click.Command]]:
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _leaves(sub, f"{path} {name}".strip())
    else:
        yield path, command


def test_every_command_takes_the_log_options() -> None:
    for path, command in _leaves(main):
        options = {opt for param in command.params for opt in getattr(param, "opts", [])}
        assert {"--log-level", "--log-format"} <= options, path


def _handler_after(args: list[str], env: dict[str, str]) -> logging.Handler:
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code == 0, result.output
    return next(h for h in logging.getLogger().handlers if h.get_name() == "marketo-stream")


def test_the_log_settings_apply_and_the_options_override_them() -> None:
    try:
        env = {**ENV, "MARKETO_STREAM_LOG__FORMAT": "json", "MARKETO_STREAM_LOG__LEVEL": "info"}
        handler = _handler_after(["config", "validate"], env)
        assert isinstance(handler.formatter, logs.JsonFormatter)
        assert logging.getLogger().level == logging.INFO

        handler = _handler_after(["config", "validate", "--log-format", "text", "--log-level", "ERROR"], env)
        assert not isinstance(handler.formatter, logs.JsonFormatter)
        assert logging.getLogger().level == logging.ERROR
    finally:
        logs.configure_logging()


def test_a_bad_log_setting_names_itself() -> None:
    result = CliRunner().invoke(main, ["config", "validate"], env={**ENV, "MARKETO_STREAM_LOG__FORMAT": "xml"})
    assert result.exit_code == 2 and "log.format" in result.output


def test_the_exporters_lines_name_the_export_job(started: Started, tmp_path: Path, captured: io.StringIO) -> None:
    _use(captured, "json")
    sandbox, _, clock = started()
    with logs.run("run-x"):
        (completed,) = list(make_exporter(sandbox, clock, tmp_path / "work").run([activity_window(1)]))
    lines = [line for line in _json_lines(captured) if line["logger"] == "marketo_stream.bulk"]
    about_the_job = [line for line in lines if completed.export_id in line["message"]]
    assert about_the_job and all(line.get("export_id") == completed.export_id for line in about_the_job)
    assert all(line["run_id"] == "run-x" for line in lines)


def test_a_syncs_export_lines_name_the_table_they_are_about(
    captured: io.StringIO, sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    from marketo_stream.sink.memory import MemorySink
    from marketo_stream.sync.runner import SyncRunner
    from tests.unit.test_run_in_memory import settings_for

    _use(captured, "json")
    sandbox = sandbox_factory(scale="tiny", rate_limit_calls=100_000)
    runner = SyncRunner(settings_for(sandbox, tmp_path), sink=MemorySink())
    with logs.run("run-7"):
        try:
            runner.run_once()
        finally:
            runner.close()

    created = [line for line in _json_lines(captured) if "created job" in line["message"]]
    tables = {line["export"].split(":", 1)[0]: line.get("table") for line in created}
    assert tables["activities"] == "activities", "one export carries every activity table"
    assert tables["leads"] == "lead"
    (custom,) = [label for label in tables if label.startswith("custom_object_")]
    assert tables[custom] == custom
    assert all(line["run_id"] == "run-7" and line["export_id"] for line in created)


def test_log_lines_can_be_sent_where_the_live_view_wants_them() -> None:
    logs.configure_logging("info", "text")
    proxy = io.StringIO()
    previous = logs.write_to(proxy)
    try:
        logging.getLogger("marketo_stream.sync").info("above the view")
    finally:
        assert previous is not None
        logs.write_to(previous)
        logs.configure_logging("warning", "text")
    assert proxy.getvalue().startswith("INFO marketo_stream.sync: above the view")
