"""The world facade: every query the API routes and the truth tables ask, answered for a given instant."""

from __future__ import annotations

from marketo_stream.sandbox.config import SandboxConfig
from marketo_stream.sandbox.timefmt import DAY, parse
from marketo_stream.sandbox.world import catalog
from marketo_stream.sandbox.world.scale import scale_named


class World:
    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.scale = scale_named(config.scale)
        self.start = parse(config.start)
        self.origin = self.start - self.scale.history_days * DAY
        self.horizon = self.start + config.future_days * DAY
        self.activity_types = catalog.ALL
