"""Re-extracting one window of one table, published beside the sync without touching its state.

Activities: one bulk export per window with ``createdAt`` = the window and only that table's activity type.
Leads: a bulk lead export over ``createdAt``. Other tables have no date window Marketo can export by, so
they are refused (``resync`` re-extracts them whole). Windows longer than Marketo's 31 days are split.

The replay has its own transactional id (``<sync id>-replay``): it neither fences the sync nor is fenced by
it, and it writes no state key, so the sync's progress is exactly what it was. Records carry the same
column policies (blocked, hashed) as the sync's. ``to_topic`` publishes elsewhere, with the table's schema
registered under that topic's subjects.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from marketo_stream.bulk.exporter import BulkExporter
from marketo_stream.bulk.request import ExportRequest
from marketo_stream.errors import ConfigError
from marketo_stream.intervals import Interval, format_instant
from marketo_stream.marketo.client import MarketoClient
from marketo_stream.operator.targets import TableKind, TargetTable
from marketo_stream.schema import ValueConversionError
from marketo_stream.schema import activity_table as activity_schema
from marketo_stream.schema import lead_table as lead_schema
from marketo_stream.settings import Settings
from marketo_stream.sink import KafkaSink, SinkConfig
from marketo_stream.sync.activities import export_request
from marketo_stream.sync.catalog import fetch_metadata
from marketo_stream.sync.published import PublishedTable, is_blocked, publish
from marketo_stream.sync.runner import exporter_config, sink_config
from marketo_stream.sync.windows import window_request
from marketo_stream.sync.writer import Writer
from marketo_stream.sync_state import SCHEMAS_KEY, SchemaIds

REPLAY_SUFFIX = "-replay"


class ReplayRefused(ConfigError):
    """The table or the window cannot be replayed (a command-line mistake); the message says what can."""


@dataclass
class ReplayResult:
    topic: str
    windows: list[Interval]
    records: int = 0
    rejected: int = 0
    """Rows whose values do not fit their columns: skipped, as the sync skips them (it keeps them aside)."""
    exports: int = 0
    bulk_bytes: int = 0


def window_between(since: datetime, until: datetime) -> Interval:
    if until <= since:
        raise ReplayRefused(f"--until ({format_instant(until)}) must be after --since ({format_instant(since)})")
    return Interval(since, until)


def replay_windows(window: Interval, max_days: int) -> list[Interval]:
    """The window in export-sized pieces, oldest first."""
    return sorted(window.split_newest_first(timedelta(days=max_days)))


def replay_sink_config(settings: Settings, to_topic: str | None) -> tuple[SinkConfig, str | None]:
    """The sync's sink settings under the replay's transactional id, and the topic suffix for ``to_topic``."""
    config = sink_config(settings)
    config = replace(config, transactional_id=config.transactional_id + REPLAY_SUFFIX)
    if to_topic is None:
        return config, None
    prefix, dot, suffix = to_topic.rpartition(".")
    if not dot or not prefix or not suffix:
        raise ReplayRefused(f"--to-topic {to_topic!r}: name a topic as <prefix>.<name>, e.g. replay.activity_x")
    return replace(config, topic_prefix=prefix), suffix


def check_replayable(target: TargetTable) -> None:
    if target.kind not in (TableKind.ACTIVITY, TableKind.LEAD):
        raise ReplayRefused(
            f"{target.name} cannot be replayed by window: only activity tables (by activity date) and lead "
            f"(by createdAt) can; use 'marketo-stream resync {target.name}' to re-extract it whole"
        )


def _published_table(
    settings: Settings, target: TargetTable, client: MarketoClient, main_sink: KafkaSink
) -> PublishedTable:
    """The table exactly as the sync publishes it: same column names (from its registered schema), same policies."""
    spec = target.spec
    if spec is None:
        raise ReplayRefused(f"{target.name} cannot be replayed")
    if is_blocked(spec, settings):
        raise ReplayRefused(f"{target.name} is blocked by the configuration (block.tables / block.groups)")
    previous = main_sink.published_value_schema(spec.topic_suffix)
    meta = fetch_metadata(client)
    if target.kind is TableKind.LEAD:
        avro = lead_schema(meta.lead_fields, previous=previous)
    else:
        item = next((t for t in meta.activity_types if int(t["id"]) == target.type_id), None)
        if item is None:
            raise ReplayRefused(f"Marketo no longer lists activity type {target.type_id} ({target.name})")
        avro = activity_schema(item, previous=previous, name=spec.name)
    return publish(spec, avro, settings)


def _request(target: TargetTable, table: PublishedTable, window: Interval) -> ExportRequest:
    label = f"replay:{target.name}:{window}"
    if target.kind is TableKind.ACTIVITY:
        return export_request(window, [target.type_id], label)
    return window_request("leads", window, fields=table.marketo_fields(), label=label)


def replay(settings: Settings, target: TargetTable, window: Interval, *, to_topic: str | None = None) -> ReplayResult:
    """Exports ``window`` of ``target`` and publishes every row it holds; writes no sync state."""
    check_replayable(target)
    windows = replay_windows(window, settings.sync.max_window_days)
    config, suffix = replay_sink_config(settings, to_topic)
    client = MarketoClient.from_settings(settings.marketo)
    sink = KafkaSink(config)
    try:
        table = _published_table(settings, target, client, KafkaSink(sink_config(settings)))
        schema = table.sink_schema()
        states = sink.open()
        sink.verify_schemas(SchemaIds.from_json(states.get(SCHEMAS_KEY)).subjects)  # the sync's topics' ids
        sink.prepare(replace(schema, topic_suffix=suffix) if suffix else schema)
        result = ReplayResult(config.topic(suffix or schema.topic_suffix), windows)
        work = exporter_config(settings)
        exporter = BulkExporter(client, replace(work, work_dir=Path(work.work_dir) / "replay"))
        requests = [_request(target, table, w) for w in windows]
        with Writer(sink, settings.sync.transaction_rows) as writer:
            for export in exporter.run(requests):
                rows = export.rows()
                convert = table.values_converter(rows.header, rows.json_columns)
                for values in rows:
                    try:
                        writer.upsert_values(table, convert(values))
                    except ValueConversionError:
                        result.rejected += 1
                        continue
                    writer.checkpoint(dict)
                    result.records += 1
                writer.commit({})
                result.exports += 1
                result.bulk_bytes += export.file_size
                export.path.unlink(missing_ok=True)
        return result
    finally:
        sink.close()
        client.close()
