"""A registry whose schemas live in a secured broker logs in to it like every other client, and keeps them.

The registry here is a second Apicurio started by the project's script (its own ports and data directory) with
``MARKETO_STREAM_REGISTRY_KAFKA_CLIENT`` naming the storage's Kafka client settings: SASL_SSL, SCRAM-SHA-512, as a
user of its own that holds only the ACLs the registry module's docstring lists. Restarted, it serves the same
schema under the same id, read back from its journal in the secured broker.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialDeletion,
    UserScramCredentialUpsertion,
)
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

from tests.conftest import remember_test_secret
from tests.infra import LOCAL_SCRIPT, SecureInfra
from tests.sync.test_outages import free_port

pytestmark = pytest.mark.kafka

STORAGE_ACLS: tuple[tuple[ResourceType, str, tuple[AclOperation, ...]], ...] = (
    (
        ResourceType.TOPIC,
        "kafkasql-",
        (
            AclOperation.CREATE,
            AclOperation.DESCRIBE,
            AclOperation.DESCRIBE_CONFIGS,
            AclOperation.READ,
            AclOperation.WRITE,
        ),
    ),
    (
        ResourceType.TOPIC,
        "registry-events",
        (
            AclOperation.CREATE,
            AclOperation.DESCRIBE,
            AclOperation.DESCRIBE_CONFIGS,
            AclOperation.READ,
            AclOperation.WRITE,
        ),
    ),
    (ResourceType.GROUP, "apicurio-", (AclOperation.READ, AclOperation.DESCRIBE)),
)
"""What the registry's storage needs on the cluster (journal, snapshots, events topics; its consumer groups)."""


@dataclass
class StorageUser:
    name: str
    password: str


@pytest.fixture
def storage_user(secure_infra: SecureInfra) -> Iterator[StorageUser]:
    """A SCRAM user made for this test by the super user, holding the storage's ACLs and nothing else."""
    user = StorageUser(f"registry-{uuid.uuid4().hex[:8]}", secrets.token_urlsafe(18))
    remember_test_secret(user.password)
    admin = AdminClient(secure_infra.client_config(secure_infra.admin))
    info = ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192)
    for future in admin.alter_user_scram_credentials(
        [UserScramCredentialUpsertion(user.name, info, user.password.encode())]
    ).values():
        future.result(timeout=30)
    bindings = [
        AclBinding(
            kind,
            name,
            ResourcePatternType.PREFIXED,
            f"User:{user.name}",
            "*",
            operation,
            AclPermissionType.ALLOW,
        )
        for kind, name, operations in STORAGE_ACLS
        for operation in operations
    ]
    for future in admin.create_acls(bindings).values():
        future.result(timeout=30)
    yield user
    mine = AclBindingFilter(
        ResourceType.ANY,
        None,
        ResourcePatternType.ANY,
        f"User:{user.name}",
        None,
        AclOperation.ANY,
        AclPermissionType.ANY,
    )
    for future in admin.delete_acls([mine]).values():
        future.result(timeout=30)
    for future in admin.alter_user_scram_credentials(
        [UserScramCredentialDeletion(user.name, ScramMechanism.SCRAM_SHA_512)]
    ).values():
        future.result(timeout=30)


@dataclass
class SecuredRegistry:
    local_dir: Path
    client_file: Path
    port: int
    management_port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/apis/ccompat/v7"

    def infra(self, command: str) -> str:
        env = {
            **os.environ,
            "MARKETO_STREAM_LOCAL_DIR": str(self.local_dir),
            "MARKETO_STREAM_REGISTRY_PORT": str(self.port),
            "MARKETO_STREAM_REGISTRY_MGMT_PORT": str(self.management_port),
            "MARKETO_STREAM_REGISTRY_KAFKA_CLIENT": str(self.client_file),
        }
        done = subprocess.run(
            [sys.executable, str(LOCAL_SCRIPT), command, "--services", "registry"],
            env=env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout + done.stderr


@pytest.fixture
def secured_registry(secure_infra: SecureInfra, storage_user: StorageUser, tmp_path: Path) -> Iterator[SecuredRegistry]:
    client_file = tmp_path / "storage-client.properties"
    client_file.write_text(
        "\n".join(
            [
                f"bootstrap.servers={secure_infra.bootstrap_servers}",
                "security.protocol=SASL_SSL",
                "sasl.mechanism=SCRAM-SHA-512",
                "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
                f'username="{storage_user.name}" password="{storage_user.password}";',
                "ssl.truststore.type=PEM",
                f"ssl.truststore.location={secure_infra.ca_location}",
            ]
        )
        + "\n"
    )
    client_file.chmod(0o600)
    registry = SecuredRegistry(tmp_path / "local", client_file, free_port(), free_port())
    registry.infra("up")
    yield registry
    registry.infra("down")


def test_a_registry_keeping_its_schemas_in_a_secured_broker_logs_in_and_keeps_them(
    secured_registry: SecuredRegistry, storage_user: StorageUser
) -> None:
    subject = f"secured-storage-{uuid.uuid4().hex[:8]}-value"
    schema = Schema(
        '{"type":"record","name":"Kept","namespace":"test.storage","fields":[{"name":"id","type":"long"}]}',
        "AVRO",
    )
    schema_id = SchemaRegistryClient({"url": secured_registry.url}).register_schema(subject, schema)

    secured_registry.infra("down")
    said = secured_registry.infra("up")

    restarted = SchemaRegistryClient({"url": secured_registry.url})  # a new client: nothing cached
    assert restarted.get_schema(schema_id).schema_str == schema.schema_str
    assert restarted.get_latest_version(subject).schema_id == schema_id
    command_lines = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
    assert storage_user.password not in command_lines, "the SASL password is not on any command line"
    assert storage_user.password not in said
