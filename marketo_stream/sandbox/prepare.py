"""Preparing a world before serving it (``prepare_exports``): the benchmarks' sandbox answers from work done ahead.

At benchmark scale the world is a million activities and a hundred thousand leads; deriving them while a client
waits makes the sandbox, not the client, what a benchmark measures. Prepared, every activity is derived and
rendered once (``world/prepared.py``), the snapshot of the starting instant is folded once, and the indexes REST
calls use are built, all before the server says it is ready.

The derived files are kept between runs in a cache directory, one entry per world: its key hashes everything
the activities and the snapshot depend on (seed, scale, start, future days, late commits) and the sandbox's own
source, so a change to how the world is made is never served from an old entry. A sandbox without a pinned
``start`` starts at the machine's now, a new world each time: pin it to reuse a preparation (the benchmarks do).
Entries are published whole (built under a temporary name, then renamed) and the least recently used are removed
beyond the last few.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pickle
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from marketo_stream.sandbox.bulk.rows import activity_line
from marketo_stream.sandbox.config import SandboxConfig
from marketo_stream.sandbox.timefmt import DAY, parse
from marketo_stream.sandbox.world import views
from marketo_stream.sandbox.world.prepared import PreparedLog
from marketo_stream.sandbox.world.snapshot import Snapshot
from marketo_stream.sandbox.world.world import World

KEEP_ENTRIES = 2
_PACKAGE = Path(__file__).resolve().parent
_STALE_PARTIAL_SECONDS = 6 * 3600
WORLD_SETTINGS = ("seed", "scale", "start", "future_days", "late_commit_probability", "late_commit_max_seconds")


@dataclasses.dataclass(frozen=True)
class Preparation:
    directory: Path
    seconds: float
    from_cache: bool
    activities: int

    def as_json(self) -> dict[str, Any]:
        return {
            "directory": str(self.directory),
            "seconds": round(self.seconds, 3),
            "from_cache": self.from_cache,
            "activities": self.activities,
        }


def cache_root(config: SandboxConfig) -> Path:
    return Path(config.prepare_cache_dir or Path(tempfile.gettempdir()) / "marketo-sandbox-prepared")


def cache_key(config: SandboxConfig) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps({name: getattr(config, name) for name in WORLD_SETTINGS}, sort_keys=True).encode())
    for source in sorted(_PACKAGE.rglob("*.py")):
        digest.update(str(source.relative_to(_PACKAGE)).encode())
        digest.update(source.read_bytes())
    return f"{config.scale}-{config.seed}-{digest.hexdigest()[:16]}"


def prepare(world: World, config: SandboxConfig) -> Preparation:
    """Attaches a prepared log to ``world`` (from the cache, or made and cached) and readies the start instant."""
    began = time.monotonic()
    root = cache_root(config)
    directory = root / cache_key(config)
    from_cache = (directory / "meta.json").exists()
    if not from_cache:
        _build(world, root, directory)
    os.utime(directory)
    world.log.prepared = PreparedLog(directory)
    start = int(parse(config.start))
    snapshot = _snapshot(world, directory, start)
    world.derived(start, "snapshot", lambda: snapshot)
    world.cars_at(start)
    views.members_by_program(world, start)
    views.sorted_list_members(world, start)
    _prune(root, keep=directory)
    return Preparation(directory, time.monotonic() - began, from_cache, world.log.prepared.rows)


def _build(world: World, root: Path, directory: Path) -> None:
    partial = root / f"{directory.name}.partial-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        first_day, last_day = int(world.origin // DAY), int(world.horizon // DAY)
        PreparedLog.build(world.log, first_day, last_day, partial, activity_line)
        try:
            partial.rename(directory)
        except OSError:  # another sandbox published the same entry first; theirs is as good
            if not (directory / "meta.json").exists():
                raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def _snapshot(world: World, directory: Path, second: int) -> Snapshot:
    path = directory / f"snapshot-{second}.pickle"
    if path.exists():
        with path.open("rb") as file:
            loaded = pickle.load(file)
        if isinstance(loaded, Snapshot):
            return loaded
    snapshot = world.snapshot(second)
    partial = path.with_name(f"{path.name}.partial-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    with partial.open("wb") as file:
        pickle.dump(snapshot, file, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(partial, path)
    return snapshot


def _prune(root: Path, keep: Path) -> None:
    """Removes entries beyond the ``KEEP_ENTRIES`` most recently used, and partial builds long abandoned."""
    entries, now = [], time.time()
    for entry in root.iterdir():
        try:
            modified = entry.stat().st_mtime
        except FileNotFoundError:
            continue
        if ".partial-" in entry.name:
            if now - modified > _STALE_PARTIAL_SECONDS:
                shutil.rmtree(entry, ignore_errors=True)
        elif entry != keep and entry.is_dir():
            entries.append((modified, entry))
    for _, entry in sorted(entries, reverse=True)[KEEP_ENTRIES - 1 :]:
        shutil.rmtree(entry, ignore_errors=True)
