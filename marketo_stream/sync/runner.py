"""One sync pass, in the order that keeps data safe and fresh.

1. Read Marketo's metadata (credentials and permissions are checked before Kafka is touched).
2. Reach Kafka and the registry (bounded: exit 5 naming the servers), and check every topic name the run
   will create.
3. Open the sink: fence any older instance, read the committed state. Check that the registry still maps the
   schema ids kept in the state to the schemas records were written with (a registry that lost or renumbered
   them stops the run here, exit 5, before it registers or produces anything).
4. Register every table's schemas (an incompatible change stops here, before anything is produced); keep the
   ids written with in the state.
5. Deleted leads first: Marketo keeps them only 14 days.
6. Activities, priority-first (the newest days, then history backwards).
7. Leads: the initial bulk load, or the leads that this run's activities named; merged-away leads.
8. Entities, memberships, email template versions, custom objects, usage.
Every phase commits its records together with the state that says they are done. At the end the registry is
asked again: one that lost the ids while the run went on ends it with exit 5, not success.
"""

from __future__ import annotations

import logging
from contextlib import nullcontext
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from marketo_stream.bulk.exporter import BulkExporter, ExporterConfig
from marketo_stream.connections import kafka_client_config, registry_client_config
from marketo_stream.errors import ConfigError
from marketo_stream.intervals import format_instant, utc
from marketo_stream.marketo.client import MarketoClient
from marketo_stream.marketo.clock import SYSTEM_CLOCK, Clock
from marketo_stream.marketo.errors import MarketoError
from marketo_stream.report import Progress, SyncSummary
from marketo_stream.settings import Settings
from marketo_stream.sink import KafkaSink, SinkConfig
from marketo_stream.sink.protocol import Sink
from marketo_stream.sync.activities import ActivityResult, sync_activities
from marketo_stream.sync.catalog import Metadata, fetch_metadata, plan_tables, register_tables
from marketo_stream.sync.context import CallsMark, RunInputs, Tally, add_commits
from marketo_stream.sync.entity_phase import sync_entities
from marketo_stream.sync.leads import LeadPhase
from marketo_stream.sync.tail import tail_holds
from marketo_stream.sync.writer import Writer
from marketo_stream.sync_state import CursorState, RecentCalls, StateDocuments, SyncState, effects_documents

log = logging.getLogger("marketo_stream.sync")

DAY_MS = 86_400_000
MB = 1_000_000


def sink_config(settings: Settings) -> SinkConfig:
    kafka = settings.kafka
    config = SinkConfig(
        bootstrap_servers=kafka.bootstrap_servers,
        registry_url=kafka.schema_registry_url,
        transactional_id=kafka.effective_transactional_id(),
        topic_prefix=kafka.topic_prefix,
        state_topic=kafka.effective_state_topic(),
        partitions=kafka.partitions,
        replication_factor=kafka.replication_factor,
        delete_mode=kafka.effective_delete_mode(),
        producer_config=dict(kafka.producer),
        client_config=kafka_client_config(kafka),
        registry_config=registry_client_config(settings),
        connect_timeout_s=kafka.connect_timeout_seconds,
        outage_timeout_s=kafka.outage_timeout_seconds,
    )
    if kafka.activity_retention_days:
        config = replace(config, retention_ms=kafka.activity_retention_days * DAY_MS)
    return config


def exporter_config(settings: Settings, *, status_refresh_seconds: float = 60.0) -> ExporterConfig:
    marketo = settings.marketo
    return ExporterConfig(
        work_dir=Path(settings.sync.work_dir),
        poll_interval_seconds=marketo.poll_interval_seconds,
        status_refresh_seconds=min(status_refresh_seconds, marketo.poll_interval_seconds),
        job_timeout_seconds=marketo.job_timeout_seconds,
        daily_export_mb=marketo.export_daily_mb,
    )


class SyncRunner:
    def __init__(
        self,
        settings: Settings,
        *,
        progress: Progress | None = None,
        clock: Clock = SYSTEM_CLOCK,
        client: MarketoClient | None = None,
        sink: Sink | None = None,
        follow_tail: bool = False,
    ) -> None:
        """``follow_tail``: a pass of ``--follow`` with the streaming tail on leaves activities to the tail while it
        keeps up (``sync.tail.tail_holds``)."""
        self.settings = settings
        self.follow_tail = follow_tail
        self.progress = progress or Progress(quiet=True)
        self.clock = clock
        watched = self.progress.watch(clock)  # every wait on Marketo shows in the progress
        self.client = client or MarketoClient.from_settings(settings.marketo, clock=watched)
        self.sink: Sink = sink or KafkaSink(sink_config(settings))
        self.exporter = BulkExporter(self.client, exporter_config(settings), clock=watched)
        self.progress.count_downloads_with(lambda: self.client.downloaded_bytes)

    def run_once(self, *, now: datetime | None = None) -> SyncSummary:
        """One pass; raises typed errors (quota, Marketo, Kafka), leaving committed state consistent."""
        started = datetime.now(UTC)
        summary = SyncSummary(started=started)
        calls, bytes_before = CallsMark.of(self.client), self.client.downloaded_bytes
        usage_before = self.client.usage_by_table()
        try:
            self._run(summary, now)
        except BaseException:
            summary.outcome = "stopped"
            raise
        finally:
            summary.finished = datetime.now(UTC)
            calls.add_since(summary, self.client)
            summary.bulk_bytes = self.client.downloaded_bytes - bytes_before
            summary.export_mb_today = self.exporter.quota.used_today() / MB
            summary.export_mb_budget = float(self.settings.marketo.export_daily_mb)
            summary.calls_by_table = {
                table: {"calls": spent.calls, "export_jobs": spent.export_jobs, "bulk_bytes": spent.bulk_bytes}
                for table, usage in self.client.usage_by_table().items()
                if (spent := usage.minus(usage_before.get(table))).calls
            }
            summary.warnings.extend(
                f"topic {m.topic} has {m.config}={m.actual}, expected {m.expected}" for m in self.sink.policy_mismatches
            )
        return summary

    def _run(self, summary: SyncSummary, now: datetime | None) -> None:
        progress = self.progress
        progress.step("reading Marketo metadata")
        # Marketo's credentials and permissions are checked before Kafka
        meta = fetch_metadata(self.client, self.settings)
        self._check_start_date(now or self.client.server_now() or self.clock.now())
        progress.step(f"connecting to Kafka ({self.settings.kafka.bootstrap_servers}) and the Schema Registry")
        self.sink.connect()
        tables = plan_tables(meta, self.settings, self.sink)
        progress.step("reading the sync state from Kafka")
        state = SyncState.load(self.sink.open())
        calls = state.calls
        self.client.budget.assume_recent(calls.calls, None if calls.ended else calls.at)
        progress.step("checking that the registry still holds the schemas records were written with")
        self.sink.verify_schemas(state.schemas.subjects)
        progress.step("registering schemas")
        register_tables(tables, self.sink)
        now = now or self.client.server_now() or self.clock.now()
        writer = Writer(self.sink, self.settings.sync.transaction_rows, also=self._calls_documents)
        progress.count_rows_with(lambda: writer.committed_records)
        inputs = RunInputs(self.settings, self.client, self.exporter, writer, tables, progress, now)
        summary.horizon = inputs.horizon
        tally = Tally(inputs.writer)
        try:
            with writer:
                kept = state.schemas.merged(self.sink.written_schemas())
                if kept != state.schemas:  # before any record names a new id
                    writer.commit(kept.documents())
                self._phases(inputs, state, meta, tally, follow_tail=self.follow_tail)
                writer.commit(self._calls_documents(ended=True))
            progress.step("checking that the registry still holds the schemas this run wrote with")
            self.sink.verify_written()
            self._read_usage(summary)
        finally:
            tally.add_to(summary)
            add_commits(summary, writer, self.sink.config.topic_prefix)
        progress.step("sync complete")

    def _read_usage(self, summary: SyncSummary) -> None:
        """Today's calls by every integration (one call to stats/usage), for the quota figures; a Marketo that does
        not answer it leaves them unknown rather than failing a finished run."""
        try:
            summary.calls_today = self.client.usage_today()
        except MarketoError as exc:
            log.warning("today's API usage could not be read: %s", exc)
        summary.calls_budget = self.settings.marketo.daily_call_budget

    def _calls_documents(self, *, ended: bool = False) -> StateDocuments:
        """Our calls in Marketo's rate window, with every commit: the next process counts them (``assume_recent``)."""
        at, calls = self.client.budget.recent_calls()
        return RecentCalls(at, calls, ended).documents()

    def _check_start_date(self, now: datetime) -> None:
        """A start date after Marketo's now would plan no window at all (and one a little ahead would publish
        nothing until it came): refused before any topic or state is created."""
        start = self.settings.sync.start_date
        if start is not None and utc(start) > now:
            raise ConfigError(
                f"sync.start_date {format_instant(utc(start))} is after Marketo's current time "
                f"{format_instant(now)}: set it to a date in the past (or leave it unset to read all retained "
                f"history)"
            )

    @staticmethod
    def _phases(inputs: RunInputs, state: SyncState, meta: Metadata, tally: Tally, *, follow_tail: bool) -> None:
        """Each phase gets its state and hands the new state on; every one commits as it goes."""
        first_run = not state.leads.initial_load_complete
        progress = inputs.progress
        lead = inputs.tables.lead
        lead_work = (lambda: progress.table(lead.name)) if lead is not None else nullcontext
        progress.phase("deleted leads")
        leads = LeadPhase(inputs, state.leads, state.deleted_leads, tally, effects=state.effects, recent=state.recent)
        with lead_work():
            leads.deleted_leads()
        progress.phase("activities")
        if follow_tail and tail_holds(state, inputs, inputs.settings.follow):
            activities = ActivityResult(state.activities, state.recent, state.effects)
        else:
            activities = sync_activities(
                inputs, state.activities, state.recent, state.effects, tally, first_run=first_run
            )
        leads.effects = activities.effects
        progress.phase("leads: initial load" if first_run else "leads named by activities")
        with lead_work():
            if first_run:
                leads.initial_load()
            else:
                leads.apply_effects()
        progress.phase("entities")
        sync_entities(
            inputs,
            state,
            meta,
            activities.effects,
            tally,
            gone_lead_ids=leads.gone_ids,
            loaded_lead_ids=leads.loaded_ids,
        )
        state.effects.clear()  # used up: the next run starts from none
        inputs.writer.commit({**effects_documents(state.effects), **CursorState(inputs.now).run_documents()})

    def close(self) -> None:
        self.sink.close()
        self.client.close()
