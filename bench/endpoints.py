"""Where the local broker and registry listen, as `infra/local.py` starts them.

The port variables move every service (a second stack beside the developer's, a CI rehearsal on other ports); the
full-address variables name any other broker or registry. Benchmarks and tests read them here, so a stack started
on other ports is the one they use.
"""

from __future__ import annotations

import os


def bootstrap_servers() -> str:
    port = os.environ.get("MARKETO_STREAM_KAFKA_PORT", "19092")
    return os.environ.get("MARKETO_STREAM_BOOTSTRAP_SERVERS", f"127.0.0.1:{port}")


def registry_url() -> str:
    port = os.environ.get("MARKETO_STREAM_REGISTRY_PORT", "18081")
    return os.environ.get("MARKETO_STREAM_SCHEMA_REGISTRY_URL", f"http://127.0.0.1:{port}/apis/ccompat/v7")


BOOTSTRAP = bootstrap_servers()
REGISTRY = registry_url()
