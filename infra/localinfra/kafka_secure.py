"""The secured broker: a second single-node KRaft broker whose only client listener is SASL_SSL.

Why a second broker rather than a second listener on the plain one: the plain broker stays exactly what
every other test expects (no authorizer), and this one enforces ACLs for everyone but ``admin``. It is
for tests of authentication and authorization, and for trying the tool against a broker set up the way
production clusters are.

Users are made when the storage is formatted (SCRAM credentials live in the cluster metadata): ``admin``
(super user), ``marketo`` (no ACLs until granted) and ``stranger`` (never granted anything). Their
passwords are generated once and kept in ``.local/kafka-secure/credentials.json``; a data directory
formatted with passwords we no longer know is thrown away and formatted again.
"""

from __future__ import annotations

import shutil
import ssl
from pathlib import Path

from localinfra.config import INFRA, KAFKA_VERSION, LOCAL, SECURE_BOOTSTRAP, SECURE_CONTROLLER_PORT, SECURE_KAFKA_PORT
from localinfra.credentials import load_or_create, password_file, write_private
from localinfra.kafka import format_storage, kafka_java
from localinfra.probes import kafka_answers
from localinfra.process import Service
from localinfra.tls import BrokerTls, ensure_broker_tls

USERS = ["admin", "marketo", "stranger"]
CLIENT_USER = "marketo"
"""The user whose settings ``env`` prints: the tool's own identity, not the super user."""
MECHANISM = "SCRAM-SHA-512"


def base_dir() -> Path:
    return LOCAL / "kafka-secure"


def _properties() -> Path:
    return base_dir() / "server.properties"


def broker_tls() -> BrokerTls:
    return BrokerTls(base_dir() / "tls")


def _prepare() -> None:
    base = base_dir()
    data = base / "data"
    passwords, created = load_or_create(base, USERS)
    if created and data.exists():
        print("kafka-secure: new passwords, so its data directory is formatted anew", flush=True)
        shutil.rmtree(data)
    data.mkdir(parents=True, exist_ok=True)
    tls = ensure_broker_tls(base / "tls")
    values = {
        "KAFKA_PORT": str(SECURE_KAFKA_PORT),
        "CONTROLLER_PORT": str(SECURE_CONTROLLER_PORT),
        "DATA_DIR": str(data),
        "ADMIN_PASSWORD": passwords["admin"],
        "KEYSTORE": str(tls.keystore),
        "TRUSTSTORE": str(tls.truststore),
        "STORE_PASSWORD": tls.store_password(),
    }
    props = (INFRA / "kafka" / "secure.properties").read_text()
    for key, value in values.items():
        props = props.replace(f"@{key}@", value)
    write_private(_properties(), props)
    if (data / "meta.properties").exists():
        return
    users = [f"{MECHANISM}=[name={user},password={passwords[user]}]" for user in USERS]
    format_storage(_properties(), *(arg for user in users for arg in ("--add-scram", user)))


def _command() -> list[str]:
    return [*kafka_java(), "kafka.Kafka", str(_properties())]


def _ready() -> bool:
    """ApiVersions inside TLS (a SASL_SSL listener ignores it in the clear), then our start line in the log."""
    tls = broker_tls()
    if not tls.ca_cert.exists():
        return False
    if not kafka_answers(SECURE_KAFKA_PORT, ssl.create_default_context(cafile=str(tls.ca_cert))):
        return False
    if SERVICE.pid() is None:
        return True
    try:
        since_start = SERVICE.log_file.read_text(errors="replace").rsplit("---- start ", 1)[-1]
    except OSError:
        return False
    return "Kafka Server started" in since_start


def client_env() -> dict[str, str]:
    return {
        "MARKETO_STREAM_BOOTSTRAP_SERVERS": SECURE_BOOTSTRAP,
        "MARKETO_STREAM_KAFKA__SECURITY_PROTOCOL": "SASL_SSL",
        "MARKETO_STREAM_KAFKA__SASL_MECHANISM": MECHANISM,
        "MARKETO_STREAM_KAFKA__SASL_USERNAME": CLIENT_USER,
        "MARKETO_STREAM_KAFKA__SASL_PASSWORD_FILE": str(password_file(base_dir(), CLIENT_USER)),
        "MARKETO_STREAM_KAFKA__SSL_CA_LOCATION": str(broker_tls().ca_cert),
    }


SERVICE = Service(
    name="kafka-secure",
    port=SECURE_KAFKA_PORT,
    command=_command,
    prepare=_prepare,
    ready=_ready,
    after_ready=lambda: None,
    describe=f"Apache Kafka {KAFKA_VERSION} (KRaft, SASL_SSL {MECHANISM}, ACLs) on {SECURE_BOOTSTRAP}",
)
