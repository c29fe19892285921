"""The deployment files: the Dockerfile passes hadolint and our rules, docker-compose.yml runs the sync beside the
services it had, the Kubernetes manifests validate against their schemas (offline), the systemd unit and the
Grafana dashboard speak of options, settings and metrics that exist."""

from __future__ import annotations

import configparser
import json
import re
import shlex
import socket
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import click
import jsonschema
import kubernetes_validate
import pytest
import yaml

from marketo_stream.cli import main
from marketo_stream.metrics import describe
from marketo_stream.settings import NOT_SETTINGS, load_settings, setting_variables

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
KUBERNETES = DEPLOY / "kubernetes"
HADOLINT = Path(sys.executable).parent / "hadolint"


def _known_variable(name: str) -> bool:
    known = setting_variables()
    return name in NOT_SETTINGS or name in known or (name.endswith("_FILE") and name[:-5] in known)


def _parses_as_a_command(args: list[str]) -> None:
    """The arguments are a valid marketo-stream command line (parsed, not run)."""
    ctx = click.Context(main, info_name="marketo-stream")
    command = main.get_command(ctx, args[0])
    assert command is not None, args
    command.make_context(args[0], list(args[1:]), parent=ctx)


# -- Dockerfile -----------------------------------------------------------------------------------------------


def _instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def test_the_dockerfile_passes_hadolint() -> None:
    result = subprocess.run([str(HADOLINT), "--failure-threshold", "info", "Dockerfile"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_is_pinned_runs_as_a_user_and_checks_its_health() -> None:
    steps = _instructions()
    for base in (args.split()[0] for kind, args in steps if kind == "FROM"):
        assert re.fullmatch(r"[\w./-]+:\d+\.\d+\.\d+[\w.-]*(@sha256:[0-9a-f]{64})?", base), f"unpinned base {base}"
    final = steps[max(i for i, (kind, _) in enumerate(steps) if kind == "FROM") :]
    users = [args for kind, args in final if kind == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), "the final stage runs as a non-root user"
    assert not any(kind == "ADD" and "://" in args for kind, args in steps), "no ADD of URLs"
    (health,) = [args for kind, args in final if kind == "HEALTHCHECK"]
    assert '"marketo-stream", "health"' in health
    (entrypoint,) = [json.loads(args) for kind, args in final if kind == "ENTRYPOINT"]
    (command,) = [json.loads(args) for kind, args in final if kind == "CMD"]
    assert entrypoint == ["marketo-stream"]
    _parses_as_a_command(command)
    for kind, args in final:
        if kind == "ENV":
            assert all(_known_variable(name) for name in re.findall(r"(MARKETO_STREAM_\w+)=", args))


# -- docker-compose.yml ---------------------------------------------------------------------------------------


def test_compose_runs_the_sync_beside_the_services_it_had() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"kafka", "schema-registry", "postgres", "connect", "marketo-stream"} <= set(services)
    sync = services["marketo-stream"]
    assert sync["build"] == "."
    assert sync["profiles"] == ["sync"], "plain `docker compose up` starts only the infrastructure, as before"
    assert set(sync["depends_on"]) == {"kafka", "schema-registry"}
    _parses_as_a_command(sync["command"])
    assert sync["command"][:2] == ["sync", "--follow"] and "--metrics-port" in sync["command"]
    assert "127.0.0.1:9464:9464" in sync["ports"]
    assert all(_known_variable(name) for name in sync["environment"])
    assert sync["environment"]["MARKETO_STREAM_BOOTSTRAP_SERVERS"] == "kafka:29092"
    assert sync["healthcheck"]["test"][1:3] == ["marketo-stream", "health"]
    assert "marketo-stream-work" in compose["volumes"]


# -- Kubernetes -----------------------------------------------------------------------------------------------


def _manifests() -> dict[str, dict[str, Any]]:
    found = {}
    for path in sorted(KUBERNETES.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            found[document["kind"]] = document
    return found


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("the validation tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.parametrize("kind", ["Deployment", "Secret", "ConfigMap", "Service"])
def test_the_kubernetes_manifests_validate_against_the_bundled_schemas(kind: str, offline: None) -> None:
    kubernetes_validate.validate(_manifests()[kind], kubernetes_validate.latest_version(), strict=True)


def test_the_validation_would_catch_a_mistake(offline: None) -> None:
    deployment = json.loads(json.dumps(_manifests()["Deployment"]))
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["prot"] = "metrics"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, kubernetes_validate.latest_version(), strict=True)


def _servicemonitor_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((KUBERNETES / "schemas" / "servicemonitor-v1.schema.json").read_text())
    return schema


def test_the_servicemonitor_validates_against_its_crd_schema() -> None:
    monitor = _manifests()["ServiceMonitor"]
    jsonschema.validate(monitor, _servicemonitor_schema())
    monitor["spec"]["endpoints"][0]["intervall"] = "60s"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(monitor, _servicemonitor_schema())


def test_the_manifests_fit_together_and_with_the_cli() -> None:
    m = _manifests()
    deployment, service, monitor, secret, config = (
        m["Deployment"], m["Service"], m["ServiceMonitor"], m["Secret"], m["ConfigMap"]
    )  # fmt: skip
    assert deployment["spec"]["replicas"] == 1 and deployment["spec"]["strategy"]["type"] == "Recreate"
    pod = deployment["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    args = container["args"]
    _parses_as_a_command(args)
    assert args[:4] == ["sync", "--follow", "--metrics-port", "9464"]
    assert container["readinessProbe"]["httpGet"]["port"] == "metrics"
    probe = container["livenessProbe"]["exec"]["command"]
    _parses_as_a_command(probe[1:])
    assert probe[:2] == ["marketo-stream", "health"] and probe[probe.index("--url") + 1].endswith(":9464/metrics")
    assert {"name": "metrics", "containerPort": 9464, "protocol": "TCP"} in container["ports"]
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True

    env = {e["name"]: e.get("value") for e in container["env"]}
    assert all(_known_variable(name) for name in env)
    mounts = {v["name"]: v["mountPath"] for v in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    assert volumes["credentials"]["secret"]["secretName"] == secret["metadata"]["name"]
    for name, value in env.items():
        if name.endswith("_FILE"):
            directory, key = value.rsplit("/", 1)
            assert directory == mounts["credentials"] and key in secret["stringData"], name
    assert volumes["config"]["configMap"]["name"] == config["metadata"]["name"]
    config_file = args[args.index("--config") + 1]
    assert config_file.rsplit("/", 1) == [mounts["config"], next(iter(config["data"]))]

    assert service["spec"]["selector"] == pod["metadata"]["labels"]
    assert monitor["spec"]["selector"]["matchLabels"] == service["metadata"]["labels"]
    assert monitor["spec"]["endpoints"][0]["port"] == service["spec"]["ports"][0]["name"]


def test_the_configmaps_settings_load(tmp_path: Path) -> None:
    config = _manifests()["ConfigMap"]
    (name, text), *_ = config["data"].items()
    path = tmp_path / name
    path.write_text(text)
    settings = load_settings(
        path, {"MARKETO_STREAM_CLIENT_ID": "id", "MARKETO_STREAM_CLIENT_SECRET": "deployment-test-client-secret"}
    )
    assert settings.metrics.port == 9464 and settings.log.format == "json"
    assert tomllib.loads(text)["marketo"]["base_url"].startswith("https://")


# -- systemd --------------------------------------------------------------------------------------------------


def test_the_systemd_unit_runs_the_follow_loop_with_known_settings() -> None:
    unit = configparser.ConfigParser(interpolation=None, strict=True)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(DEPLOY / "systemd" / "marketo-stream.service")
    service = unit["Service"]
    executable, *args = shlex.split(service["ExecStart"])
    assert executable.endswith("/marketo-stream")
    _parses_as_a_command(args)
    assert args[:2] == ["sync", "--follow"]
    assert service["Restart"] == "on-failure" and service["DynamicUser"] == "yes"
    assert set(service["RestartPreventExitStatus"].split()) == {"2", "4", "6"}
    name = service["Environment"].split("=", 1)[0]
    assert _known_variable(name)
    assert unit["Install"]["WantedBy"] == "multi-user.target"

    env = DEPLOY / "systemd" / "marketo-stream.env"
    names = [line.split("=", 1)[0] for line in env.read_text().splitlines() if line and not line.startswith("#")]
    assert names and all(_known_variable(n) for n in names), names


# -- Grafana --------------------------------------------------------------------------------------------------


def test_the_dashboard_queries_only_metrics_that_exist() -> None:
    dashboard = json.loads((DEPLOY / "grafana-dashboard.json").read_text())
    queries = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    queries += [v["query"] for v in dashboard["templating"]["list"] if v["type"] == "query"]
    used = {re.sub(r"_(bucket|sum|count)$", "", n) for q in queries for n in re.findall(r"marketo_stream_\w+", q)}
    exposed = {m.name for m in describe()}
    assert used and used <= exposed, used - exposed
    assert len(used) >= 15, "the dashboard shows most of the metrics"
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
