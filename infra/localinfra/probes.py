"""Readiness probes over loopback: is a port taken, does a broker answer ApiVersions, what does a URL answer.

Why raw sockets and urllib: they need nothing installed, and a Kafka broker answers ApiVersions before
any authentication, so one probe serves the plain and (inside TLS) the SASL_SSL broker.
"""

from __future__ import annotations

import json
import socket
import ssl
import struct
import urllib.error
import urllib.request


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def http(
    method: str,
    url: str,
    body: dict | None = None,
    timeout: float = 3.0,
    headers: dict[str, str] | None = None,
    context: ssl.SSLContext | None = None,
) -> tuple[int, str]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("Content-Type", "application/vnd.schemaregistry.v1+json")
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=context) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")
    except (urllib.error.URLError, OSError):
        return 0, ""


def kafka_answers(port: int, context: ssl.SSLContext | None = None) -> bool:
    """True when a broker on the port answers an ApiVersions request (API key 18, version 0).

    With ``context`` the request goes inside TLS; a SASL_SSL listener answers it before the SASL handshake.
    """
    client_id = b"marketo-stream-infra"
    body = struct.pack(">hhih", 18, 0, 7, len(client_id)) + client_id
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as raw:
            sock = context.wrap_socket(raw, server_hostname="127.0.0.1") if context is not None else raw
            sock.sendall(struct.pack(">i", len(body)) + body)
            header = sock.recv(10)
    except OSError:  # ssl.SSLError is an OSError
        return False
    if len(header) < 10:
        return False
    _size, correlation_id, error_code = struct.unpack(">iih", header)
    return correlation_id == 7 and error_code == 0
