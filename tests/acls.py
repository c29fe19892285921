"""ACLs on the secured broker, granted by its super user: what a test needs before acting as ``marketo``.

Kafka enforces ACLs per resource and operation, so a test grants exactly the producer's and reader's
set on prefixes it owns, and other tests never see its grants.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from confluent_kafka.admin import (
    AclBinding,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
)

from tests.infra import SecureInfra

SYNC_OPERATIONS: Mapping[ResourceType, Sequence[AclOperation]] = {
    ResourceType.TOPIC: (
        AclOperation.CREATE,
        AclOperation.WRITE,
        AclOperation.READ,
        AclOperation.DESCRIBE,
        AclOperation.DESCRIBE_CONFIGS,
        AclOperation.ALTER_CONFIGS,
    ),
    ResourceType.TRANSACTIONAL_ID: (AclOperation.WRITE, AclOperation.DESCRIBE),
    ResourceType.GROUP: (AclOperation.READ,),
}
"""What the sync does: create and configure its topics, write them in transactions, read its state back."""


def grant_acls(
    secure_infra: SecureInfra,
    principal: str,
    topic_prefix: str,
    transactional_id_prefix: str,
    group_prefix: str,
    operations: Mapping[ResourceType, Sequence[AclOperation]] = SYNC_OPERATIONS,
) -> list[AclBinding]:
    """Allows ``principal`` (``User:<name>`` or a bare user name) the operations on PREFIXED resources.

    Idempotent: Kafka keeps one copy of a binding granted twice. Returns the bindings, e.g. to revoke them.
    """
    if ":" not in principal:
        principal = f"User:{principal}"
    prefixes = {
        ResourceType.TOPIC: topic_prefix,
        ResourceType.TRANSACTIONAL_ID: transactional_id_prefix,
        ResourceType.GROUP: group_prefix,
    }
    bindings = [
        AclBinding(
            resource_type,
            prefixes[resource_type],
            ResourcePatternType.PREFIXED,
            principal,
            "*",
            operation,
            AclPermissionType.ALLOW,
        )
        for resource_type, allowed in operations.items()
        for operation in allowed
    ]
    admin = AdminClient(secure_infra.client_config(secure_infra.admin))  # kept alive until the futures resolve
    for future in admin.create_acls(bindings).values():
        future.result(timeout=30)
    return bindings
