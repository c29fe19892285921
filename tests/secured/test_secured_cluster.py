"""The product against a cluster secured the way managed ones are: a SASL_SSL-only broker (SCRAM, ACLs) and a
registry behind TLS and basic auth, both real servers (``make up-secure``). Every command runs as a process
of its own, and no secret value may appear in anything it prints."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient
from confluent_kafka.schema_registry import SchemaRegistryClient

from marketo_stream.exit_codes import ExitStatus
from marketo_stream.sandbox import Sandbox
from tests.acls import grant_acls
from tests.infra import SecureInfra
from tests.sync.test_end_to_end import differences
from tests.sync.topics import TopicReader

pytestmark = pytest.mark.kafka

SINCE, UNTIL = "2026-10-05T00:00:00Z", "2026-11-10T00:00:00Z"


def cli(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``marketo-stream ARGS`` as a process of its own, with only the given settings in its environment."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("MARKETO_STREAM_")}
    return subprocess.run(
        [sys.executable, "-m", "marketo_stream", *args],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def secured_prefix(secure_infra: SecureInfra) -> Iterator[str]:
    """A topic prefix the ``marketo`` user may use, with exactly the ACLs the sync needs."""
    prefix = f"sec{uuid.uuid4().hex[:8]}"
    grant_acls(secure_infra, "marketo", prefix, f"marketo-stream-{prefix}", "marketo-stream-readback-")
    yield prefix
    admin = AdminClient(secure_infra.client_config("admin"))
    topics = [t for t in admin.list_topics(timeout=30).topics if t.startswith(prefix + ".")]
    for future in admin.delete_topics(topics).values() if topics else ():
        future.exception(30)


@pytest.fixture
def sandbox(sandbox_factory: Callable[..., Sandbox]) -> Sandbox:
    return sandbox_factory(scale="tiny", rate_limit_calls=100_000)


@pytest.fixture
def secured_env(secure_infra: SecureInfra, secured_prefix: str, sandbox: Sandbox, tmp_path: Path) -> dict[str, str]:
    password = tmp_path / "sasl-password"
    password.write_text(secure_infra.marketo.password)
    return {
        "MARKETO_STREAM_BASE_URL": sandbox.url,
        "MARKETO_STREAM_CLIENT_ID": sandbox.client_id,
        "MARKETO_STREAM_CLIENT_SECRET": sandbox.client_secret,
        "MARKETO_STREAM_MARKETO__POLL_INTERVAL_SECONDS": "0",
        "MARKETO_STREAM_MARKETO__WINDOW_SECONDS": "0.2",
        "MARKETO_STREAM_SYNC__WORK_DIR": str(tmp_path / "work"),
        "MARKETO_STREAM_SYNC__START_DATE": "2026-01-01T00:00:00Z",
        "MARKETO_STREAM_KAFKA__TOPIC_PREFIX": secured_prefix,
        "MARKETO_STREAM_BOOTSTRAP_SERVERS": secure_infra.bootstrap_servers,
        "MARKETO_STREAM_KAFKA__SECURITY_PROTOCOL": "SASL_SSL",
        "MARKETO_STREAM_KAFKA__SASL_MECHANISM": "SCRAM-SHA-512",
        "MARKETO_STREAM_KAFKA__SASL_USERNAME": secure_infra.marketo.username,
        "MARKETO_STREAM_KAFKA__SASL_PASSWORD_FILE": str(password),
        "MARKETO_STREAM_KAFKA__SSL_CA_LOCATION": secure_infra.ca_location,
        "MARKETO_STREAM_SCHEMA_REGISTRY_URL": secure_infra.registry_url,
        "MARKETO_STREAM_SCHEMA_REGISTRY__BASIC_AUTH_USER": secure_infra.registry_user,
        "MARKETO_STREAM_SCHEMA_REGISTRY__BASIC_AUTH_PASSWORD": secure_infra.registry_password,
        "MARKETO_STREAM_SCHEMA_REGISTRY__SSL_CA_LOCATION": secure_infra.registry_ca_location,
    }


def secrets(secure_infra: SecureInfra, env: dict[str, str]) -> list[str]:
    return [
        secure_infra.marketo.password,
        secure_infra.admin.password,
        secure_infra.registry_password,
        env["MARKETO_STREAM_CLIENT_SECRET"],
    ]


def assert_no_secret(result: subprocess.CompletedProcess[str], secret_values: list[str]) -> None:
    printed = result.stdout + result.stderr
    for value in secret_values:
        assert value not in printed, "a secret value was printed"


def test_sync_state_show_and_replay_work_through_sasl_ssl_and_an_authenticating_registry(
    secure_infra: SecureInfra, secured_env: dict[str, str], secured_prefix: str, sandbox: Sandbox
) -> None:
    sync = cli(secured_env, "sync")
    assert sync.returncode == 0, sync.stderr[-3000:]

    registry = SchemaRegistryClient(secure_infra.registry_config())
    reader = TopicReader(secure_infra.bootstrap_servers, registry, secure_infra.client_config("admin"))
    assert differences(sandbox, reader, registry, secured_prefix) == []

    shown = cli(secured_env, "state", "show")
    assert shown.returncode == 0, shown.stderr[-3000:]
    assert "lead" in shown.stdout

    to_topic = f"{secured_prefix}.replay_visits"
    replayed = cli(
        secured_env, "replay", "--table", "activity_visit_webpage", "--since", SINCE, "--until", UNTIL,
        "--to-topic", to_topic, "--yes",
    )  # fmt: skip
    assert replayed.returncode == 0, replayed.stderr[-3000:]
    assert reader.read(to_topic), "the replay published through the secured broker"

    config = cli(secured_env, "config", "show")
    assert config.returncode == 0
    for result in (sync, shown, replayed, config):
        assert_no_secret(result, secrets(secure_infra, secured_env))


def test_a_wrong_kafka_password_exits_5_at_once_naming_the_servers(
    secure_infra: SecureInfra, secured_env: dict[str, str]
) -> None:
    env = {**secured_env, "MARKETO_STREAM_KAFKA__SASL_PASSWORD": "not-the-password"}
    del env["MARKETO_STREAM_KAFKA__SASL_PASSWORD_FILE"]
    started = time.monotonic()
    result = cli(env, "sync")
    elapsed = time.monotonic() - started

    assert result.returncode == ExitStatus.KAFKA, result.stderr[-3000:]
    assert secure_infra.bootstrap_servers in result.stderr and "refused our login" in result.stderr
    assert elapsed < 30, "a refused login ends the run without waiting for the connect timeout"
    assert len((result.stdout + result.stderr).splitlines()) < 20
    assert "not-the-password" not in result.stdout + result.stderr


def test_a_user_without_acls_exits_5_saying_what_was_refused(
    secure_infra: SecureInfra, secured_env: dict[str, str], tmp_path: Path
) -> None:
    password = tmp_path / "stranger"
    password.write_text(secure_infra.stranger.password)
    env = {
        **secured_env,
        "MARKETO_STREAM_KAFKA__SASL_USERNAME": secure_infra.stranger.username,
        "MARKETO_STREAM_KAFKA__SASL_PASSWORD_FILE": str(password),
    }
    result = cli(env, "sync")
    assert result.returncode == ExitStatus.KAFKA, result.stderr[-3000:]
    assert "AUTHORIZATION" in result.stderr
    assert_no_secret(result, [*secrets(secure_infra, secured_env), secure_infra.stranger.password])


def test_a_wrong_registry_password_exits_5_naming_the_url(
    secure_infra: SecureInfra, secured_env: dict[str, str]
) -> None:
    env = {**secured_env, "MARKETO_STREAM_SCHEMA_REGISTRY__BASIC_AUTH_PASSWORD": "wrong-registry-password"}
    result = cli(env, "sync")
    assert result.returncode == ExitStatus.KAFKA, result.stderr[-3000:]
    assert secure_infra.registry_url in result.stderr and "401" in result.stderr
    assert "wrong-registry-password" not in result.stdout + result.stderr


def test_doctor_passes_through_the_secured_cluster_and_names_missing_acls(
    secure_infra: SecureInfra, secured_env: dict[str, str], tmp_path: Path
) -> None:
    granted = cli(secured_env, "doctor")
    assert granted.returncode == 0, granted.stdout + granted.stderr[-2000:]
    assert "✗" not in granted.stdout

    password = tmp_path / "stranger"
    password.write_text(secure_infra.stranger.password)
    stranger = {
        **secured_env,
        "MARKETO_STREAM_KAFKA__SASL_USERNAME": secure_infra.stranger.username,
        "MARKETO_STREAM_KAFKA__SASL_PASSWORD_FILE": str(password),
    }
    refused = cli(stranger, "doctor")
    assert refused.returncode == ExitStatus.KAFKA, refused.stdout
    assert "AUTHORIZATION" in refused.stdout
    for result in (granted, refused):
        assert_no_secret(result, [*secrets(secure_infra, secured_env), secure_infra.stranger.password])
