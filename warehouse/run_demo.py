"""``make models``: the whole chain on the demo data, then a few rows of each mart.

1. ``marketo-stream demo`` syncs the sandbox's demo world into Kafka twice (topics ``<prefix>.*``);
2. the Connect configurations of ``connect/`` (pointed at that prefix) write the topics into PostgreSQL;
3. once the connectors' committed offsets have passed the end of every topic, ``dbt build`` runs the models and
   their tests into the schema ``<prefix>_models``;
4. a few rows of each mart are printed.

Needs the local services (``make up connect-up``) and ``.venv-dbt`` (``make dbt-venv``); the Makefile target
starts and makes them. Run with ``.venv/bin/python warehouse/run_demo.py [--scale tiny|small|demo]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
import requests
from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ROOT / "warehouse"
BOOTSTRAP = os.environ.get("MARKETO_STREAM_BOOTSTRAP_SERVERS", "127.0.0.1:19092")
CONNECT = f"http://127.0.0.1:{os.environ.get('MARKETO_STREAM_CONNECT_PORT', '18083')}"
POSTGRES_PORT = int(os.environ.get("MARKETO_STREAM_POSTGRES_PORT", "15432"))
MARTS = {  # mart: the columns shown
    "leads": "lead_id, email, is_deleted, count_sends, count_opens, count_clicks, count_program_memberships",
    "lead_history": "date_day, lead_id, phone, title, lead_status",
    "email_sends": "email_send_id, lead_id, email_id, email_template_id, email_template_version, was_opened",
    "emails": "email_id, email_name, email_template_id, count_sends, count_opens, count_clicks",
    "email_templates": "email_template_id, email_template_name, count_emails, count_sends, count_opens, count_clicks",
    "campaigns": "campaign_id, campaign_name, campaign_type, count_sends, count_opens, count_leads_reached",
    "programs": "program_id, program_name, count_campaigns, count_sends, count_members",
    "activities": "activity_id, lead_id, activity_timestamp, activity_type_name, source_table",
}


def step(text: str) -> None:
    print(f"\n== {text} ({time.strftime('%H:%M:%S')})", flush=True)


def connectors(prefix: str) -> list[str]:
    names = []
    for shipped in ("postgres-entities.json", "postgres-activities.json"):
        config = json.loads((ROOT / "connect" / shipped).read_text())
        settings = dict(config["config"])
        settings["topics.regex"] = prefix.replace(".", "\\.") + settings["topics.regex"].removeprefix("marketo")
        name = f"{config['name']}-{prefix}"
        response = requests.post(f"{CONNECT}/connectors", json={"name": name, "config": settings}, timeout=60)
        response.raise_for_status()
        names.append(name)
    return names


def topic_ends(prefix: str) -> dict[tuple[str, int], int]:
    """Per partition of the prefix's table topics, the offset past its last committed record."""
    consumer = Consumer(
        {
            "bootstrap.servers": BOOTSTRAP,
            "group.id": f"models-demo-{uuid.uuid4().hex}",
            "isolation.level": "read_committed",
            "enable.partition.eof": True,
            "enable.auto.commit": False,
        }
    )
    try:
        topics = [t for t in consumer.list_topics(timeout=30).topics if t.startswith(f"{prefix}.") and "._" not in t]
        metadata = consumer.list_topics(timeout=30).topics
        parts = [TopicPartition(t, p, 0) for t in topics for p in metadata[t].partitions]
        consumer.assign(parts)
        ends = {(tp.topic, tp.partition): 0 for tp in parts}
        pending = set(ends)
        while pending:
            for msg in consumer.consume(10_000, timeout=1.0):
                where = (msg.topic(), msg.partition())
                if msg.error():
                    pending.discard(where)
                else:
                    ends[where] = msg.offset() + 1
        return {where: end for where, end in ends.items() if end}
    finally:
        consumer.close()


def wait_for(names: list[str], ends: dict[tuple[str, int], int], timeout_s: float = 900) -> None:
    admin = AdminClient({"bootstrap.servers": BOOTSTRAP})
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        committed: dict[tuple[str, int], int] = {}
        for name in names:
            status = requests.get(f"{CONNECT}/connectors/{name}/status", timeout=10).json()
            failed = [t.get("trace", "") for t in status.get("tasks", []) if t.get("state") == "FAILED"]
            if failed:
                sys.exit(f"connector {name} failed:\n{failed[0][:3000]}")
            group = f"connect-{name}"
            found = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)])[group].result(timeout=10)
            committed.update({(tp.topic, tp.partition): tp.offset for tp in found.topic_partitions})
        behind = sum(max(0, end - committed.get(where, 0)) for where, end in ends.items())
        print(f"   records still to write: {behind}", flush=True)
        if behind == 0:
            return
        time.sleep(3)
    sys.exit("the connectors did not catch up in time")


def show(schema: str) -> None:
    with psycopg.connect(
        host="127.0.0.1", port=POSTGRES_PORT, dbname="marketo", user="marketo", password="marketo", autocommit=True
    ) as conn:
        for mart, columns in MARTS.items():
            rows: list[Any] = conn.execute(f'SELECT {columns} FROM "{schema}"."{mart}" LIMIT 5').fetchall()
            total = conn.execute(f'SELECT count(*) FROM "{schema}"."{mart}"').fetchone()
            print(f"\n{schema}.{mart} ({total[0] if total else 0} rows)\n  {columns}")
            for row in rows:
                print("  " + " | ".join("" if v is None else str(v) for v in row))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="demo", choices=["tiny", "small", "demo"])
    args = parser.parse_args()
    prefix = f"mdemo{uuid.uuid4().hex[:6]}"
    step(f"demo sync into topics {prefix}.* ({args.scale} world)")
    subprocess.run(
        [str(ROOT / ".venv/bin/marketo-stream"), "demo", "--scale", args.scale, "--prefix", prefix], check=True
    )
    step("Kafka Connect: the JDBC sink writes the topics into PostgreSQL")
    names = connectors(prefix)
    wait_for(names, topic_ends(prefix))
    for name in names:  # each holds a pool of PostgreSQL connections; the tables are written
        requests.delete(f"{CONNECT}/connectors/{name}", timeout=60)
    schema = f"{prefix}_models"
    step(f"dbt build into schema {schema}")
    variables = {"marketo_table_prefix": prefix}
    env = {**os.environ, "MARKETO_STREAM_MODELS_SCHEMA": schema, "MARKETO_STREAM_WAREHOUSE_PORT": str(POSTGRES_PORT)}
    dbt = [str(ROOT / ".venv-dbt/bin/dbt"), "build", "--project-dir", str(PROJECT), "--profiles-dir", str(PROJECT)]
    subprocess.run([*dbt, "--vars", json.dumps(variables)], check=True, env=env, cwd=PROJECT)
    step("a few rows of each mart")
    show(schema)
    print(
        f"\nTables {prefix}_* and schemas {schema}, {schema}_staging stay in PostgreSQL; connectors {', '.join(names)}."
    )


if __name__ == "__main__":
    main()
