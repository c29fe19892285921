"""From settings to the configuration of every Kafka client and of the registry client, and a printable view.

One function builds the librdkafka settings that every Kafka client shares (producer, admin, state reader,
the consumers of the operator commands), so that a cluster that needs SASL or TLS is reached the same way
by all of them; another builds the Schema Registry client's. The sink receives these as plain mappings and
knows nothing of how they were configured.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import SecretStr

from marketo_stream.errors import ConfigError
from marketo_stream.redaction import MASK, mask_url, remember_secret
from marketo_stream.settings import KafkaSettings, Settings, is_secret_key


def kafka_client_config(kafka: KafkaSettings) -> dict[str, Any]:
    """librdkafka settings for any Kafka client: servers, security, then ``kafka.client`` on top."""
    config: dict[str, Any] = {
        "bootstrap.servers": kafka.bootstrap_servers,
        "security.protocol": kafka.security_protocol,
    }
    if kafka.sasl_mechanism is not None:
        config["sasl.mechanism"] = kafka.sasl_mechanism
    if kafka.sasl_mechanism in ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"):
        config["sasl.username"] = kafka.sasl_username
        config["sasl.password"] = _secret(kafka.sasl_password)
    if kafka.sasl_mechanism == "OAUTHBEARER":
        config.update(_oauthbearer(kafka))
    if kafka.security_protocol in ("SSL", "SASL_SSL"):
        for setting, value in (
            ("ssl.ca.location", kafka.ssl_ca_location),
            ("ssl.certificate.location", kafka.ssl_certificate_location),
            ("ssl.key.location", kafka.ssl_key_location),
        ):
            if value is not None:
                config[setting] = str(value)
        if kafka.ssl_key_password is not None:
            config["ssl.key.password"] = _secret(kafka.ssl_key_password)
        config["ssl.endpoint.identification.algorithm"] = "https" if kafka.ssl_endpoint_identification else "none"
    return {**config, **kafka.client}


def _oauthbearer(kafka: KafkaSettings) -> dict[str, Any]:
    if kafka.sasl_oauthbearer_method == "aws_msk_iam":
        assert kafka.aws_region is not None  # checked by the settings
        return {"oauth_cb": msk_iam_token_source(kafka.aws_region)}
    config: dict[str, Any] = {
        "sasl.oauthbearer.method": "oidc",
        "sasl.oauthbearer.client.id": kafka.sasl_oauthbearer_client_id,
        "sasl.oauthbearer.client.secret": _secret(kafka.sasl_oauthbearer_client_secret),
        "sasl.oauthbearer.token.endpoint.url": kafka.sasl_oauthbearer_token_endpoint_url,
    }
    if kafka.sasl_oauthbearer_scope:
        config["sasl.oauthbearer.scope"] = kafka.sasl_oauthbearer_scope
    if kafka.sasl_oauthbearer_extensions:
        config["sasl.oauthbearer.extensions"] = kafka.sasl_oauthbearer_extensions
    return config


def msk_iam_token_source(region: str) -> Callable[[str], tuple[str, float]]:
    """librdkafka's ``oauth_cb`` for MSK IAM: a token signed with the process's AWS credentials.

    The signer is an optional dependency (``pip install aws-msk-iam-sasl-signer-python``): only MSK IAM users
    need it, and it brings the AWS SDK.
    """
    try:
        from aws_msk_iam_sasl_signer import MSKAuthTokenProvider  # type: ignore[import-not-found]
    except ImportError as exc:
        raise ConfigError(
            "kafka.sasl_oauthbearer_method = aws_msk_iam needs the package aws-msk-iam-sasl-signer-python "
            "(pip install aws-msk-iam-sasl-signer-python)"
        ) from exc

    def token(_config: str) -> tuple[str, float]:
        value, expiry_ms = MSKAuthTokenProvider.generate_auth_token(region)
        remember_secret(value)
        return value, expiry_ms / 1000

    return token


def registry_client_config(settings: Settings) -> dict[str, Any]:
    """The confluent-kafka ``SchemaRegistryClient`` configuration: URL, one way to log in, TLS."""
    registry = settings.schema_registry
    config: dict[str, Any] = {"url": settings.kafka.schema_registry_url}
    if registry.basic_auth_user is not None:  # otherwise user-info in the URL, if any, is used as basic auth
        config["basic.auth.user.info"] = f"{registry.basic_auth_user}:{_secret(registry.basic_auth_password)}"
    if registry.bearer_token is not None:
        token = _secret(registry.bearer_token)
        config["bearer.auth.credentials.source"] = "CUSTOM"
        config["bearer.auth.custom.provider.function"] = lambda _conf: _bearer_fields(
            token, registry.logical_cluster, registry.identity_pool_id
        )
        config["bearer.auth.custom.provider.config"] = {}
    elif registry.oauth_client_id is not None:
        config["bearer.auth.credentials.source"] = "OAUTHBEARER"
        config["bearer.auth.client.id"] = registry.oauth_client_id
        config["bearer.auth.client.secret"] = _secret(registry.oauth_client_secret)
        config["bearer.auth.issuer.endpoint.url"] = registry.oauth_token_endpoint_url
        config["bearer.auth.scope"] = registry.oauth_scope or ""
        config["bearer.auth.logical.cluster"] = registry.logical_cluster or ""
        config["bearer.auth.identity.pool.id"] = registry.identity_pool_id or ""
    for setting, value in (
        ("ssl.ca.location", registry.ssl_ca_location),
        ("ssl.certificate.location", registry.ssl_certificate_location),
        ("ssl.key.location", registry.ssl_key_location),
    ):
        if value is not None:
            config[setting] = str(value)
    return config


def _bearer_fields(token: str, logical_cluster: str | None, identity_pool: str | None) -> dict[str, str]:
    fields = {"bearer.auth.token": token, "bearer.auth.logical.cluster": logical_cluster or ""}
    if identity_pool:
        fields["bearer.auth.identity.pool.id"] = identity_pool
    return fields


def _secret(value: SecretStr | None) -> str:
    return "" if value is None else value.get_secret_value()


# -- what may be printed -------------------------------------------------------------------------------------


FREE_FORM_MAPS = (("kafka", "client"), ("kafka", "producer"))
"""Settings whose keys are librdkafka's: their secrets are recognised by key name (``sasl.password``...)."""


def masked_settings(settings: Settings) -> dict[str, Any]:
    """The settings as JSON-ready data with every secret masked: SecretStr fields (pydantic prints them as
    stars), secret-looking keys of the librdkafka maps, and user-info in URLs."""
    data: dict[str, Any] = _urls_masked(settings.model_dump(mode="json"))
    for section, name in FREE_FORM_MAPS:
        data[section][name] = {k: (MASK if is_secret_key(k) else v) for k, v in data[section][name].items()}
    return data


def _urls_masked(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _urls_masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_urls_masked(v) for v in value]
    if isinstance(value, str) and "://" in value:
        return mask_url(value)
    return value
