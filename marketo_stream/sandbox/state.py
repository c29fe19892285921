"""Everything a running sandbox holds, in one place, so ``/_sandbox/reset`` can put it all back."""

from __future__ import annotations

import random
import tempfile
import threading
import uuid
from pathlib import Path

from marketo_stream.sandbox.bulk.jobs import ExportJobs
from marketo_stream.sandbox.clock import SimClock
from marketo_stream.sandbox.config import SandboxConfig
from marketo_stream.sandbox.faults import FaultPlan
from marketo_stream.sandbox.identity import TokenStore
from marketo_stream.sandbox.limits import CallLimits
from marketo_stream.sandbox.permissions import Role
from marketo_stream.sandbox.prepare import prepare
from marketo_stream.sandbox.requestlog import RequestLog
from marketo_stream.sandbox.timefmt import parse
from marketo_stream.sandbox.world.world import World


class SandboxState:
    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        rng = random.Random(f"credentials:{config.seed}")
        self.client_id = config.client_id or str(uuid.UUID(int=rng.getrandbits(128), version=4))
        self.client_secret = config.client_secret or "".join(rng.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=32))
        self.clients = {self.client_id: self.client_secret, **dict(config.extra_clients)}
        self.owns_data_dir = not config.data_dir
        self.data_dir = Path(config.data_dir or tempfile.mkdtemp(prefix="marketo-sandbox-"))
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.world = World(config)
        self.preparation = prepare(self.world, config) if config.prepare_exports else None
        self._build()

    def _build(self) -> None:
        config = self.config
        self.clock = SimClock(parse(config.start), config.clock_speed)
        self.tokens = TokenStore(self.clock, config.token_ttl_seconds, self.clients, config.api_user)
        self.limits = CallLimits(
            self.clock,
            calls=config.rate_limit_calls,
            window_seconds=config.rate_limit_window_seconds,
            concurrency=config.concurrency_limit,
            daily=config.daily_quota,
        )
        self.faults = FaultPlan(config.faults)
        self.role = Role(config.denied_permissions)
        self.log = RequestLog()
        self.jobs = ExportJobs(config, self.clock, self.world, self.data_dir)
        self.listings_lock = threading.Lock()
        self.template_listings: set[tuple[int, str]] = set()
        """``(second, status)`` of every ``emailTemplates.json`` answer: the versions a client could see are those
        showing at these instants (``truth``'s ``email_template_history``)."""

    def user_of(self, client_id: str) -> str:
        """The API user a client id belongs to, as usage statistics name it."""
        return self.config.api_user if client_id == self.client_id else f"{client_id}@sandbox.example.com"

    def reset(self) -> None:
        """Back to the state at start: clock, tokens, limits, faults from the config, request log, export jobs,
        no added lead fields or live activities."""
        self.jobs.close()
        self.world.lead_fields.clear_added()
        self.world.log.clear_live()
        self._build()

    def close(self) -> None:
        self.jobs.close()
        if self.world.log.prepared is not None:
            self.world.log.prepared.close()
            self.world.log.prepared = None
