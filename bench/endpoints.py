"""Where the local broker and registry listen, as `infra/local.py` starts them.

The ports come from ``infra/localinfra/config.py``, the one place that declares them (its port variables move every
service: a second stack beside the developer's, a CI rehearsal on other ports); the full-address variables name any
other broker or registry. Benchmarks and tests read them here, so a stack started on other ports is the one they
use.
"""

from __future__ import annotations

import os

from infra.localinfra.config import KAFKA_PORT, REGISTRY_URL


def bootstrap_servers() -> str:
    return os.environ.get("MARKETO_STREAM_BOOTSTRAP_SERVERS", f"127.0.0.1:{KAFKA_PORT}")


def registry_url() -> str:
    return os.environ.get("MARKETO_STREAM_SCHEMA_REGISTRY_URL", REGISTRY_URL)


BOOTSTRAP = bootstrap_servers()
REGISTRY = registry_url()
