"""The world facade: every query the API routes and the truth tables ask, answered for a given instant."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from marketo_stream.sandbox.config import SandboxConfig
from marketo_stream.sandbox.timefmt import DAY, iso_date, iso_z, parse
from marketo_stream.sandbox.world import catalog
from marketo_stream.sandbox.world.activitylog import ActivityLog
from marketo_stream.sandbox.world.assets import Assets
from marketo_stream.sandbox.world.fields import LeadFieldSet
from marketo_stream.sandbox.world.instants import InstantCache
from marketo_stream.sandbox.world.leads import LeadBook
from marketo_stream.sandbox.world.rng import rng, unit
from marketo_stream.sandbox.world.scale import scale_named
from marketo_stream.sandbox.world.snapshot import Snapshot, take

CAR_MAKES = (("Volvo", "XC40"), ("Toyota", "Prius"), ("Ford", "F-150"), ("Tesla", "Model 3"), ("Fiat", "500"))
CUSTOM_OBJECT = "car_c"
T = TypeVar("T")


class World:
    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.seed = config.seed
        self.scale = scale_named(config.scale)
        self.start = parse(config.start)
        self.origin = self.start - self.scale.history_days * DAY
        self.horizon = self.start + config.future_days * DAY
        self.activity_types = catalog.ALL
        self.lead_fields = LeadFieldSet(self.seed)
        self.assets = Assets(self.seed, self.scale, self.origin, self.start, self.horizon)
        self.book = LeadBook(self.seed, self.scale.leads, self.origin, self.start, self.horizon, self.assets)
        self.log = ActivityLog(
            self.seed,
            self.book,
            self.assets,
            self.scale.noise_per_day,
            config.late_commit_probability,
            config.late_commit_max_seconds,
        )
        self._instants = InstantCache()

    def snapshot(self, at: float) -> Snapshot:
        """Everything's state at ``at`` (whole seconds); the last two are kept, as paging asks for the same one."""
        second = int(at)
        return self._instants.get(second, "snapshot", lambda: take(self.book, second))

    def derived(self, at: float, key: str, build: Callable[[], T]) -> T:
        """``build()``'s answer about the world at ``at`` (whole seconds), built once per instant and ``key``."""
        return self._instants.get(int(at), key, build)

    def cars_at(self, at: float) -> list[dict[str, Any]]:
        return self.derived(at, "cars", lambda: self.cars(self.snapshot(at)))

    # -- lead records as the REST API renders them -------------------------------------------------------------
    def rest_lead(self, raw: dict[str, Any], fields: list[str] | None = None) -> dict[str, Any]:
        """Typed as REST returns values: datetimes ``Z`` strings, dates ``YYYY-MM-DD``, missing fields left out."""
        known = self.lead_fields
        wanted = fields or [f.name for f in known.all]
        record: dict[str, Any] = {}
        for name in wanted:
            value = known.value(raw, name)
            if value is None:
                continue
            kind = known.by_name[name].data_type if name in known.by_name else None
            if kind == "datetime":
                value = iso_z(value)
            elif kind == "date":
                value = iso_date(value)
            record[name] = value
        return record

    def cars(self, snap: Snapshot) -> list[dict[str, Any]]:
        """The ``car_c`` custom object records of the leads that exist (about a third of leads own one)."""
        records = []
        for lead_id, lead in snap.leads.items():
            index = self.book.index_of(lead_id)
            if unit(self.seed, "car", index) >= 0.33:
                continue
            r = rng(self.seed, "car", index)
            make, model = r.choice(CAR_MAKES)
            created = lead["createdAt"] + r.randrange(60, 30 * DAY)
            if created > snap.at:
                continue
            updated = created + r.randrange(0, 60 * DAY)
            records.append(
                {
                    "marketoGUID": f"car-{lead_id}-{r.getrandbits(24):06x}",
                    "leadId": lead_id,
                    "vin": f"VIN{r.getrandbits(48):012X}",
                    "make": make,
                    "model": model,
                    "color": r.choice(("red", "black", "white", "blue")),
                    "year": r.randrange(2008, 2027),
                    "createdAt": created,
                    "updatedAt": updated if updated <= snap.at else created,
                }
            )
        return records
