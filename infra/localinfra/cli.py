"""The commands of ``infra/local.py``: up, down, status, fetch and env, over a chosen set of services."""

from __future__ import annotations

import argparse
import sys

from localinfra import artifacts, kafka_secure, registry_secure
from localinfra.config import CONNECT_URL, KAFKA_PORT, REGISTRY_URL, WAREHOUSE_JDBC_URL
from localinfra.errors import InfraError
from localinfra.process import start, status, stop
from localinfra.services import SERVICES


def fetch(names: list[str] | None = None) -> None:
    """Fetch the artifacts of the named services once; later calls find them in the cache and return at once."""
    names = names or ["kafka", "registry"]
    if {"kafka", "connect", "kafka-secure"} & set(names):
        artifacts.fetch_kafka()
    if "registry" in names:
        artifacts.fetch_registry()
    if "connect" in names:
        artifacts.fetch_connect_plugins()
    if "registry-secure" in names:
        registry_secure.fetch_caddy()


SECURED = {"kafka-secure", "registry-secure"}


def client_env(names: list[str]) -> dict[str, str]:
    """The settings a client of the named services sets, as environment variables.

    A secured service's settings replace the plain one's of the same name. Passwords appear only as the
    path of a file that holds them (``<VAR>_FILE``), so that this output can be pasted and logged.
    """
    found: dict[str, str] = {}
    if set(names) - SECURED:
        found["MARKETO_STREAM_BOOTSTRAP_SERVERS"] = f"127.0.0.1:{KAFKA_PORT}"
        found["MARKETO_STREAM_SCHEMA_REGISTRY_URL"] = REGISTRY_URL
    if {"postgres", "connect"} & set(names):
        found["MARKETO_STREAM_CONNECT_URL"] = CONNECT_URL
        found["MARKETO_STREAM_WAREHOUSE_URL"] = WAREHOUSE_JDBC_URL
    if "kafka-secure" in names:
        found.update(kafka_secure.client_env())
    if "registry-secure" in names:
        found.update(registry_secure.client_env())
    return found


def main(argv: list[str] | None = None, description: str | None = None) -> int:
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["up", "down", "status", "fetch", "env"])
    parser.add_argument(
        "--services", default="kafka,registry", help=f"comma-separated, of: {','.join(SERVICES)} (kafka,registry)"
    )
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.services.split(",") if n.strip()]
    unknown = [n for n in names if n not in SERVICES]
    if unknown:
        parser.error(f"unknown service(s): {', '.join(unknown)}; known: {', '.join(SERVICES)}")
    services = [SERVICES[n] for n in names]
    try:
        if args.command == "env":
            for key, value in client_env(names).items():
                print(f"{key}={value}")
            return 0
        if args.command == "fetch":
            fetch(names)
            return 0
        if args.command == "up":
            fetch(names)
            for svc in services:
                start(svc)
            return 0
        if args.command == "down":
            for svc in reversed(services):
                stop(svc)
            return 0
        ok = [status(svc) for svc in services]
        return 0 if all(ok) else 3
    except InfraError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
