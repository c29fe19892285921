"""Security settings: one client configuration for every Kafka client and the registry, secrets never shown,
the environment checked as strictly as the file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from marketo_stream.cli import main
from marketo_stream.connections import kafka_client_config, masked_settings, registry_client_config
from marketo_stream.errors import ConfigError
from marketo_stream.exit_codes import ExitStatus
from marketo_stream.redaction import redact
from marketo_stream.settings import NOT_SETTINGS, Settings, load_settings, setting_variables

REPO = Path(__file__).resolve().parents[2]
BASE = {
    "MARKETO_STREAM_BASE_URL": "http://127.0.0.1:1",
    "MARKETO_STREAM_CLIENT_ID": "id",
    "MARKETO_STREAM_CLIENT_SECRET": "marketo-client-secret-1",
}
SCRAM = {
    **BASE,
    "MARKETO_STREAM_KAFKA__SECURITY_PROTOCOL": "SASL_SSL",
    "MARKETO_STREAM_KAFKA__SASL_MECHANISM": "SCRAM-SHA-512",
    "MARKETO_STREAM_KAFKA__SASL_USERNAME": "marketo",
    "MARKETO_STREAM_KAFKA__SASL_PASSWORD": "kafka-sasl-secret-2",
}


def settings(env: dict[str, str]) -> Settings:
    return load_settings(None, env)


def test_sasl_scram_over_tls_reaches_every_kafka_client(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    config = kafka_client_config(settings({**SCRAM, "MARKETO_STREAM_KAFKA__SSL_CA_LOCATION": str(ca)}).kafka)
    assert config == {
        "bootstrap.servers": "127.0.0.1:19092",
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "marketo",
        "sasl.password": "kafka-sasl-secret-2",
        "ssl.ca.location": str(ca),
        "ssl.endpoint.identification.algorithm": "https",
    }


def test_oidc_settings_pass_through_to_librdkafka() -> None:
    env = {
        **BASE,
        "MARKETO_STREAM_KAFKA__SECURITY_PROTOCOL": "SASL_SSL",
        "MARKETO_STREAM_KAFKA__SASL_MECHANISM": "OAUTHBEARER",
        "MARKETO_STREAM_KAFKA__SASL_OAUTHBEARER_CLIENT_ID": "svc",
        "MARKETO_STREAM_KAFKA__SASL_OAUTHBEARER_CLIENT_SECRET": "oidc-secret-3",
        "MARKETO_STREAM_KAFKA__SASL_OAUTHBEARER_TOKEN_ENDPOINT_URL": "https://idp.example/token",
        "MARKETO_STREAM_KAFKA__SASL_OAUTHBEARER_EXTENSIONS": "logicalCluster=lkc-1,identityPoolId=pool-1",
    }
    config = kafka_client_config(settings(env).kafka)
    assert config["sasl.oauthbearer.method"] == "oidc"
    assert config["sasl.oauthbearer.client.secret"] == "oidc-secret-3"
    assert config["sasl.oauthbearer.extensions"] == "logicalCluster=lkc-1,identityPoolId=pool-1"


def test_msk_iam_signs_tokens_with_the_optional_signer(monkeypatch: pytest.MonkeyPatch) -> None:
    class Signer:
        @staticmethod
        def generate_auth_token(region: str) -> tuple[str, int]:
            return f"signed-for-{region}", 1_700_000_000_000

    module = type("module", (), {"MSKAuthTokenProvider": Signer})
    monkeypatch.setitem(__import__("sys").modules, "aws_msk_iam_sasl_signer", module)
    env = {
        **BASE,
        "MARKETO_STREAM_KAFKA__SECURITY_PROTOCOL": "SASL_SSL",
        "MARKETO_STREAM_KAFKA__SASL_MECHANISM": "OAUTHBEARER",
        "MARKETO_STREAM_KAFKA__SASL_OAUTHBEARER_METHOD": "aws_msk_iam",
        "MARKETO_STREAM_KAFKA__AWS_REGION": "eu-west-1",
    }
    config = kafka_client_config(settings(env).kafka)
    assert config["oauth_cb"]("") == ("signed-for-eu-west-1", 1_700_000_000.0)
    assert redact("token signed-for-eu-west-1") == "token ***", "a signed token is never printed"


def test_msk_iam_without_the_signer_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "aws_msk_iam_sasl_signer", None)
    env = {
        **BASE,
        "MARKETO_STREAM_KAFKA__SECURITY_PROTOCOL": "SASL_SSL",
        "MARKETO_STREAM_KAFKA__SASL_MECHANISM": "OAUTHBEARER",
        "MARKETO_STREAM_KAFKA__SASL_OAUTHBEARER_METHOD": "aws_msk_iam",
        "MARKETO_STREAM_KAFKA__AWS_REGION": "eu-west-1",
    }
    with pytest.raises(ConfigError, match="aws-msk-iam-sasl-signer-python"):
        kafka_client_config(settings(env).kafka)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MARKETO_STREAM_KAFKA__SECURITY_PROTOCOL": "SASL_SSL"}, "sasl_mechanism is required"),
        (
            {"MARKETO_STREAM_KAFKA__SECURITY_PROTOCOL": "SASL_SSL", "MARKETO_STREAM_KAFKA__SASL_MECHANISM": "PLAIN"},
            "PLAIN needs kafka.sasl_username and kafka.sasl_password",
        ),
        ({"MARKETO_STREAM_KAFKA__SSL_CA_LOCATION": "/nowhere/ca.pem"}, "not a readable file"),
        ({"MARKETO_STREAM_KAFKA__SSL_KEY_LOCATION": "/nowhere/key.pem"}, "needs both"),
        (
            {
                "MARKETO_STREAM_SCHEMA_REGISTRY__BASIC_AUTH_USER": "u",
                "MARKETO_STREAM_SCHEMA_REGISTRY__BEARER_TOKEN": "t",
            },
            "choose one way",
        ),
    ],
)
def test_incomplete_security_settings_are_refused_naming_what_is_missing(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        settings({**BASE, **env})


def test_registry_basic_auth_and_tls_reach_the_registry_client(tmp_path: Path) -> None:
    ca = tmp_path / "registry-ca.pem"
    ca.write_text("x")
    env = {
        **BASE,
        "MARKETO_STREAM_SCHEMA_REGISTRY_URL": "https://registry.example/apis/ccompat/v7",
        "MARKETO_STREAM_SCHEMA_REGISTRY__BASIC_AUTH_USER": "registry",
        "MARKETO_STREAM_SCHEMA_REGISTRY__BASIC_AUTH_PASSWORD": "registry-secret-4",
        "MARKETO_STREAM_SCHEMA_REGISTRY__SSL_CA_LOCATION": str(ca),
    }
    assert registry_client_config(settings(env)) == {
        "url": "https://registry.example/apis/ccompat/v7",
        "basic.auth.user.info": "registry:registry-secret-4",
        "ssl.ca.location": str(ca),
    }


def test_a_registry_bearer_token_is_sent_as_authorization() -> None:
    env = {**BASE, "MARKETO_STREAM_SCHEMA_REGISTRY__BEARER_TOKEN": "bearer-secret-5"}
    config = registry_client_config(settings(env))
    fields = config["bearer.auth.custom.provider.function"]({})
    assert fields["bearer.auth.token"] == "bearer-secret-5"


def test_secrets_come_from_files_named_by_FILE_variables(tmp_path: Path) -> None:
    secret = tmp_path / "sasl"
    secret.write_text("from-a-file-6\n")
    env = {**SCRAM, "MARKETO_STREAM_KAFKA__SASL_PASSWORD_FILE": str(secret)}
    del env["MARKETO_STREAM_KAFKA__SASL_PASSWORD"]
    assert kafka_client_config(settings(env).kafka)["sasl.password"] == "from-a-file-6"


def test_config_show_masks_every_secret_and_url_user_info() -> None:
    env = {
        **SCRAM,
        "MARKETO_STREAM_KAFKA__CLIENT": json.dumps({"ssl.keystore.password": "keystore-secret-7", "linger.ms": 5}),
        "MARKETO_STREAM_KAFKA__PRODUCER": json.dumps({"sasl.oauthbearer.client.secret": "producer-secret-8"}),
        "MARKETO_STREAM_SCHEMA_REGISTRY_URL": "https://reg:url-secret-9@registry.example/apis/ccompat/v7",
    }
    result = CliRunner().invoke(main, ["config", "show"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    for secret in ("marketo-client-secret-1", "kafka-sasl-secret-2", "keystore-secret-7", "producer-secret-8"):
        assert secret not in result.output
    assert "url-secret-9" not in result.output and "reg:" not in result.output
    shown = json.loads(result.output)
    assert shown["kafka"]["schema_registry_url"] == "https://***@registry.example/apis/ccompat/v7"
    assert shown["kafka"]["client"] == {"ssl.keystore.password": "***", "linger.ms": 5}
    assert masked_settings(settings(env))["kafka"]["sasl_password"] == "**********"


def test_a_misspelled_environment_variable_is_an_error_naming_the_closest_setting() -> None:
    with pytest.raises(ConfigError, match="did you mean MARKETO_STREAM_KAFKA__BOOTSTRAP_SERVERS"):
        settings({**BASE, "MARKETO_STREAM_KAFAK__BOOTSTRAP_SERVERS": "x:9092"})
    result = CliRunner().invoke(
        main, ["config", "validate"], env={**BASE, "MARKETO_STREAM_SYNC__START_DAT": "2026-01-01"}
    )
    assert result.exit_code == ExitStatus.CONFIG
    assert "MARKETO_STREAM_SYNC__START_DATE" in result.output


def test_lists_and_maps_are_set_from_the_environment_as_json() -> None:
    env = {
        **BASE,
        "MARKETO_STREAM_BLOCK__GROUPS": '["memberships"]',
        "MARKETO_STREAM_BLOCK__COLUMNS": '{"lead": ["phone"]}',
    }
    found = settings(env)
    assert found.block.groups == ["memberships"] and found.block.columns == {"lead": ["phone"]}
    with pytest.raises(ConfigError, match="must be JSON"):
        settings({**BASE, "MARKETO_STREAM_BLOCK__GROUPS": "memberships"})


def test_every_variable_the_project_scripts_read_is_a_setting_or_declared_not_one() -> None:
    import re

    used: set[str] = set()
    for path in [*REPO.joinpath("infra").rglob("*.py"), REPO / "Makefile", *REPO.joinpath("connect").glob("*")]:
        if path.is_file():
            used |= set(re.findall(r"MARKETO_STREAM_[A-Z0-9_]*[A-Z0-9]", path.read_text(errors="replace")))
    known = set(setting_variables()) | {f"{n}_FILE" for n in setting_variables()} | NOT_SETTINGS
    assert sorted(used - known) == []


def test_a_prefix_longer_than_kafka_allows_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"kafka\.topic_prefix"):
        settings({**BASE, "MARKETO_STREAM_KAFKA__TOPIC_PREFIX": "p" * 250})


def test_delete_markers_is_an_alias_of_delete_mode_both_and_refuses_another_mode() -> None:
    from marketo_stream.settings import KafkaSettings, load_settings
    from marketo_stream.sync.runner import sink_config

    assert KafkaSettings().effective_delete_mode() == "tombstone"
    assert KafkaSettings(delete_markers=True).effective_delete_mode() == "both"
    assert KafkaSettings(delete_markers=True, delete_mode="both").effective_delete_mode() == "both"
    with pytest.raises(ValueError, match=r"kafka\.delete_mode"):
        KafkaSettings(delete_markers=True, delete_mode="soft")
    marketo = {"MARKETO_STREAM_BASE_URL": "https://1.mktorest.com", "MARKETO_STREAM_CLIENT_ID": "i"}
    env = {**marketo, "MARKETO_STREAM_CLIENT_SECRET": "s", "MARKETO_STREAM_KAFKA__DELETE_MODE": "soft"}
    settings = load_settings(None, env)
    assert sink_config(settings).effective_delete_mode == "soft"
