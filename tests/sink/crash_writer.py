"""A sync stand-in for the crash test: writes numbered records in transactions with its progress as state.

Run as ``python -m tests.sink.crash_writer BOOTSTRAP REGISTRY PREFIX TOTAL BATCH``. It resumes from the
committed state, prints ``opened <next>`` once the sink is open, ``committed <next>`` after each
transaction, and ``done`` when all TOTAL are written.
"""

from __future__ import annotations

import sys

from marketo_stream.schema import activity_table
from marketo_stream.sink import KafkaSink, SinkConfig, TableSchema

EVENTS = activity_table({"id": 1, "name": "Visit Webpage", "attributes": [{"name": "Webpage URL"}]}, name="events")
TABLE = TableSchema("events", "events", EVENTS.key_schema, EVENTS.value_schema, compacted=False)


def main(bootstrap: str, registry: str, prefix: str, total: int, batch_size: int) -> None:
    config = SinkConfig(bootstrap, registry, transactional_id=prefix, topic_prefix=prefix, partitions=3)
    sink = KafkaSink(config)
    state = sink.open().get("writer", {"next": 0})
    sink.prepare(TABLE)
    position = int(state["next"])
    print(f"opened {position}", flush=True)
    while position < total:
        end = min(position + batch_size, total)
        with sink.transaction() as batch:
            for n in range(position, end):
                guid = str(n)
                batch.upsert("events", {"marketo_guid": guid}, {"marketo_guid": guid, "lead_id": n, "webpage_url": "/"})
            batch.put_state("writer", {"next": end})
        position = end
        print(f"committed {end}", flush=True)
    sink.close()
    print("done", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
