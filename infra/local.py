"""Local Kafka (KRaft, single node) and Schema Registry (Apicurio, ccompat API) without Docker, and on request
a warehouse stack: PostgreSQL and a Kafka Connect worker with a JDBC sink (``--services postgres,connect``).

Why a script and not containers: our machines run no Docker engine, but they do have a JVM, Maven and
Maven Central. The JVM artifacts are fetched once into a cache outside the work tree; data and logs live
under ``.local/`` (git-ignored). Readiness is polled, never slept for. Only the standard library is used
so that ``make up`` works before the package itself is installed. This file is the entry point; each
service lives in its own module of ``infra/localinfra/``.

On request too, secured twins for tests of authentication (``--services kafka-secure,registry-secure``):
a second broker whose only client listener is SASL_SSL with SCRAM-SHA-512 and ACLs enforced (users
admin, marketo and stranger), and Caddy (built once from the Go module proxy) adding TLS and basic auth
in front of the plain registry, which must be up. Generated passwords and TLS material stay under
``.local/``; ``env`` prints where clients find them, never a password itself.

    python3 infra/local.py up|down|status|fetch|env
        [--services kafka,registry,postgres,connect,kafka-secure,registry-secure]

Environment (all optional):
    MARKETO_STREAM_KAFKA_PORT          broker listener            (19092)
    MARKETO_STREAM_CONTROLLER_PORT     KRaft controller listener  (19093)
    MARKETO_STREAM_REGISTRY_PORT       registry HTTP port         (18081)
    MARKETO_STREAM_REGISTRY_MGMT_PORT  registry management port   (19000)
    MARKETO_STREAM_REGISTRY_STORAGE    kafkasql: schemas kept in the broker (the default); memory: empty at each start
    MARKETO_STREAM_REGISTRY_KAFKA_CLIENT  a file of Kafka client settings: the registry keeps its schemas in that broker
    MARKETO_STREAM_POSTGRES_PORT       PostgreSQL                 (15432)
    MARKETO_STREAM_CONNECT_PORT        Kafka Connect REST API     (18083)
    MARKETO_STREAM_SECURE_KAFKA_PORT   secured broker, SASL_SSL   (19094)
    MARKETO_STREAM_SECURE_CONTROLLER_PORT  its controller, PLAINTEXT on loopback (19095)
    MARKETO_STREAM_SECURE_REGISTRY_PORT    secured registry, HTTPS (18443)
    MARKETO_STREAM_GO                  go binary that builds Caddy (go on PATH, /usr/local/go/bin/go)
    MARKETO_STREAM_POSTGRES_BIN        directory of initdb/postgres (newest /usr/lib/postgresql/*/bin)
    MARKETO_STREAM_POSTGRES_OS_USER    who runs PostgreSQL when we are root (postgres)
    MARKETO_STREAM_LOCAL_DIR           data, logs, pid files      (<repo>/.local)
    MARKETO_STREAM_INFRA_CACHE         downloaded artifacts       (~/.cache/marketo-stream/infra)
    MARKETO_STREAM_READY_TIMEOUT       seconds to wait for a service (120)
"""

from __future__ import annotations

import sys

from localinfra.cli import main

if __name__ == "__main__":
    sys.exit(main(description=__doc__))
