"""``marketo-stream doctor`` against the sandbox and the real broker and registry: one line per check, exit statuses."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable

from click.testing import CliRunner, Result

from marketo_stream.cli import main
from marketo_stream.exit_codes import ExitStatus
from marketo_stream.operator.doctor import Category, Check, exit_status
from marketo_stream.sandbox import Sandbox

REGISTRY_PASSWORD = "registry-pass-word"


def doctor(sandbox: Sandbox, bootstrap: str, registry: str, *args: str, **env: str) -> Result:
    settings = {
        "MARKETO_STREAM_BASE_URL": sandbox.url,
        "MARKETO_STREAM_CLIENT_ID": sandbox.client_id,
        "MARKETO_STREAM_CLIENT_SECRET": sandbox.client_secret,
        "MARKETO_STREAM_BOOTSTRAP_SERVERS": bootstrap,
        "MARKETO_STREAM_SCHEMA_REGISTRY_URL": registry,
        "MARKETO_STREAM_KAFKA__TOPIC_PREFIX": f"doc{uuid.uuid4().hex[:8]}",
        "MARKETO_STREAM_CONFIG": "",
        **env,
    }
    result = CliRunner().invoke(main, ["doctor", "--timeout", "3", *args], env=settings, catch_exceptions=False)
    assert sandbox.client_secret not in result.output
    return result


def lines(result: Result, mark: str) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith(mark)]


def test_all_green_exits_0_with_every_line_ticked(
    sandbox_factory: Callable[..., Sandbox], bootstrap_servers: str, registry_url: str
) -> None:
    result = doctor(sandbox_factory(scale="tiny"), bootstrap_servers, registry_url)
    assert result.exit_code == 0, result.output
    checks = [line for line in result.output.splitlines() if not line.startswith("    ")]
    assert checks and all(line.startswith("✓ ") for line in checks), result.output
    for expected in ("credentials", "activities", "custom objects", "bulk extract", "quota", "Kafka transactions"):
        assert expected in result.output
    assert "calls used today" in result.output and "MB used today" in result.output


def test_json_lists_every_check_with_its_category(
    sandbox_factory: Callable[..., Sandbox], bootstrap_servers: str, registry_url: str
) -> None:
    result = doctor(sandbox_factory(scale="tiny"), bootstrap_servers, registry_url, "--json")
    body = json.loads(result.output)
    assert result.exit_code == 0 and body["ok"] is True and body["exit_status"] == 0
    names = [check["name"] for check in body["checks"]]
    assert "Marketo permission: opportunities" in names and "Schema Registry" in names
    assert {check["category"] for check in body["checks"]} >= {"marketo_refused", "kafka"}


def test_a_role_without_opportunities_and_custom_objects_fails_those_lines_and_exits_4(
    sandbox_factory: Callable[..., Sandbox], bootstrap_servers: str, registry_url: str
) -> None:
    sandbox = sandbox_factory(scale="tiny", denied_permissions=["opportunities", "custom_objects"])
    result = doctor(sandbox, bootstrap_servers, registry_url)
    assert result.exit_code == ExitStatus.MARKETO, result.output
    failed = lines(result, "✗")
    assert len(failed) == 2, result.output
    assert "opportunities" in failed[0] and "/rest/v1/opportunities/describe.json" in failed[0]
    assert "Read-Only Opportunity" in failed[0] and "603 Access denied" in failed[0]
    assert "custom objects" in failed[1] and "/rest/v1/customobjects.json" in failed[1]
    assert "Read-Only Custom Object" in failed[1]
    assert "fix: grant the API-only user's role Read-Only Custom Object" in result.output
    assert any("Kafka transactions" in line for line in lines(result, "✓"))


def test_a_wrong_secret_fails_the_credentials_and_exits_4_without_printing_it(
    sandbox_factory: Callable[..., Sandbox], bootstrap_servers: str, registry_url: str
) -> None:
    wrong = "not-the-secret-at-all"
    result = doctor(sandbox_factory(scale="tiny"), bootstrap_servers, registry_url, MARKETO_STREAM_CLIENT_SECRET=wrong)
    assert result.exit_code == ExitStatus.MARKETO, result.output
    assert lines(result, "✗") == [lines(result, "✗ Marketo credentials")[0]]
    assert "Bad client credentials" in result.output
    assert wrong not in result.output


def test_marketo_unreachable_exits_7(
    sandbox_factory: Callable[..., Sandbox], bootstrap_servers: str, registry_url: str
) -> None:
    result = doctor(
        sandbox_factory(scale="tiny"), bootstrap_servers, registry_url, MARKETO_STREAM_BASE_URL="http://127.0.0.1:1"
    )
    assert result.exit_code == ExitStatus.MARKETO_UNAVAILABLE, result.output
    assert "✗ Marketo credentials: identity at http://127.0.0.1:1" in result.output


def test_kafka_unreachable_names_the_servers_and_exits_5_in_bounded_time(
    sandbox_factory: Callable[..., Sandbox], registry_url: str
) -> None:
    started = time.monotonic()
    result = doctor(sandbox_factory(scale="tiny"), "127.0.0.1:1", registry_url)
    assert time.monotonic() - started < 20
    assert result.exit_code == ExitStatus.KAFKA, result.output
    assert lines(result, "✗") == [lines(result, "✗ Kafka reachable: no metadata from 127.0.0.1:1 within 3 s")[0]]
    assert "fix: check kafka.bootstrap_servers" in result.output


def test_a_replication_factor_the_cluster_cannot_meet_fails_topic_creation(
    sandbox_factory: Callable[..., Sandbox], bootstrap_servers: str, registry_url: str
) -> None:
    env = {"MARKETO_STREAM_KAFKA__REPLICATION_FACTOR": "3"}
    result = doctor(sandbox_factory(scale="tiny"), bootstrap_servers, registry_url, **env)
    assert result.exit_code == ExitStatus.KAFKA, result.output
    assert "✗ Kafka topic creation" in result.output and "REPLICATION_FACTOR" in result.output


def test_registry_unreachable_names_the_url_with_user_info_masked_and_exits_5(
    sandbox_factory: Callable[..., Sandbox], bootstrap_servers: str
) -> None:
    registry = f"http://doctor:{REGISTRY_PASSWORD}@127.0.0.1:1/apis/ccompat/v7"
    result = doctor(sandbox_factory(scale="tiny"), bootstrap_servers, registry)
    assert result.exit_code == ExitStatus.KAFKA, result.output
    assert "✗ Schema Registry: http://***@127.0.0.1:1/apis/ccompat/v7 unreachable" in result.output
    assert REGISTRY_PASSWORD not in result.output


def test_a_bad_configuration_is_one_failed_line_and_exits_2(
    sandbox_factory: Callable[..., Sandbox], bootstrap_servers: str, registry_url: str
) -> None:
    env = {"MARKETO_STREAM_MARKETO__CALLS_PER_WINDOW": "500"}
    result = doctor(sandbox_factory(scale="tiny"), bootstrap_servers, registry_url, **env)
    assert result.exit_code == ExitStatus.CONFIG, result.output
    assert result.output.startswith("✗ configuration: invalid configuration")
    assert "marketo.calls_per_window" in result.output


def test_the_first_failing_category_in_order_wins() -> None:
    def failed(category: Category) -> Check:
        return Check("x", False, "", category)

    assert exit_status([Check("x", True, "", Category.KAFKA)]) == ExitStatus.OK
    assert exit_status([failed(Category.KAFKA), failed(Category.MARKETO_REFUSED)]) == ExitStatus.MARKETO
    assert exit_status([failed(Category.MARKETO_REFUSED), failed(Category.MARKETO_UNREACHABLE)]) == 7
    assert exit_status([failed(Category.MARKETO_UNREACHABLE), failed(Category.CONFIG)]) == ExitStatus.CONFIG
    assert exit_status([failed(Category.QUOTA), failed(Category.KAFKA)]) == ExitStatus.KAFKA
    assert exit_status([failed(Category.QUOTA)]) == ExitStatus.QUOTA


def test_a_role_without_activities_fails_the_activities_and_bulk_extract_lines(
    sandbox_factory: Callable[..., Sandbox], bootstrap_servers: str, registry_url: str
) -> None:
    sandbox = sandbox_factory(scale="tiny", denied_permissions=["activities"])
    result = doctor(sandbox, bootstrap_servers, registry_url)
    assert result.exit_code == ExitStatus.MARKETO, result.output
    failed = lines(result, "✗")
    assert [line.split(":")[1].strip() for line in failed] == ["activities", "bulk extract"], result.output
    assert "GET /bulk/v1/activities/export.json answered 603" in failed[1]


def test_an_existing_state_topic_is_read_committed(
    sandbox_factory: Callable[..., Sandbox],
    bootstrap_servers: str,
    registry_url: str,
    new_topic: Callable[..., str],
) -> None:
    state = new_topic("doctor-state")
    env = {"MARKETO_STREAM_KAFKA__STATE_TOPIC": state}
    result = doctor(sandbox_factory(scale="tiny"), bootstrap_servers, registry_url, **env)
    assert result.exit_code == 0, result.output
    assert f"✓ Kafka state topic: {state} readable (read_committed)" in result.output
