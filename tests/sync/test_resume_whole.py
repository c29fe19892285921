"""Nothing lost (#15), on the real broker: a first sync stopped after its activities were committed and rerun
leaves every topic equal to the truth, and its list memberships dated exactly as an uninterrupted run dates them
(the truth cannot tell: a membership's date is known only from an Add to List activity)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from marketo_stream.errors import MarketoStreamError
from marketo_stream.sandbox import Sandbox
from marketo_stream.sink.memory import MemorySink
from tests.sync.test_end_to_end import FAST, World, prefix, settings_for, world  # noqa: F401 (fixtures)
from tests.sync.topics import plain
from tests.unit.test_run_in_memory import run
from tests.unit.test_run_in_memory import settings_for as memory_settings_for

pytestmark = pytest.mark.kafka


def memberships(rows: Any) -> set[tuple[Any, ...]]:
    return {(v["list_id"], v["lead_id"], plain(v["created_at"])) for v in rows if v is not None}


def test_a_first_sync_stopped_after_its_activities_and_rerun_is_whole_on_the_broker(
    world: World,  # noqa: F811 (the fixture imported above)
    sandbox_factory: Callable[..., Sandbox],
    tmp_path: Path,
) -> None:
    uninterrupted = MemorySink()
    twin = sandbox_factory(**FAST)
    start = world.settings.sync.start_date
    assert start is not None
    run(memory_settings_for(twin, tmp_path / "twin", start.isoformat()), uninterrupted)

    stop = {"path": r"/rest/v1/lists\.json", "code": "603", "times": 1}
    requests.post(f"{world.sandbox.url}/_sandbox/faults", json={"faults": [stop]}, timeout=30).raise_for_status()
    with pytest.raises(MarketoStreamError):
        world.sync()
    world.sync()

    assert world.differences() == []
    published = memberships(world.reader.latest(f"{world.prefix}.list_membership").values())
    expected = memberships(uninterrupted.compacted("list_membership").values())
    assert published == expected
    assert sum(1 for _, _, created in published if created is not None) > 0
