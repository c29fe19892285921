"""Every service ``infra/local.py`` knows, by the name its ``--services`` flag takes, in start order."""

from __future__ import annotations

from localinfra import connect, kafka, kafka_secure, postgres, registry, registry_secure
from localinfra.process import Service

SERVICES: dict[str, Service] = {
    module.SERVICE.name: module.SERVICE
    for module in (kafka, registry, postgres, connect, kafka_secure, registry_secure)
}
