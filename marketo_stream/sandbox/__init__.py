"""A local Marketo: a real HTTP server that behaves as Marketo's REST, Asset and Bulk Extract APIs do.

It imports nothing from the rest of marketo_stream (an import contract checks this), so the client
cannot quietly share code with the thing it is tested against.

    from marketo_stream.sandbox import Sandbox, SandboxConfig
    with Sandbox(SandboxConfig(seed=7, scale="small", status_refresh_seconds=0)) as sb:
        sb.url, sb.client_id, sb.client_secret
"""

from marketo_stream.sandbox.config import PINNED_START, SandboxConfig
from marketo_stream.sandbox.faults import FaultRule
from marketo_stream.sandbox.server import Sandbox

__all__ = ["PINNED_START", "FaultRule", "Sandbox", "SandboxConfig"]
