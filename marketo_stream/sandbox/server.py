"""The sandbox as a real HTTP server on loopback, in a background thread (``Sandbox``) or in the foreground (CLI)."""

from __future__ import annotations

import contextlib
import email.utils
import http.server
import shutil
import socket
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType

from marketo_stream.sandbox.app import SandboxApp
from marketo_stream.sandbox.config import SandboxConfig
from marketo_stream.sandbox.http import Request, Response
from marketo_stream.sandbox.routes import build_app
from marketo_stream.sandbox.state import SandboxState

_CHUNK = 256 * 1024


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    app: SandboxApp


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the sandbox keeps its own request log."""

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The ``Date`` header tells the simulated time, as Marketo's tells its own: clients plan by it."""
        return email.utils.formatdate(self.server.app.state.clock.now(), usegmt=True)

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {key.lower(): value for key, value in self.headers.items()}
        request = Request.parse(self.command, self.path, headers, body)
        response = self.server.app.handle(request)
        with contextlib.suppress(ConnectionError):
            self._write(response)

    def _write(self, response: Response) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        for key, value in response.headers.items():
            self.send_header(key, value)
        if response.file is None:
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self._send_body([response.body], response.drop_after_bytes)
            return
        start, end = response.file_range or (0, response.file.stat().st_size - 1)
        self.send_header("Content-Length", str(max(0, end - start + 1)))
        self.end_headers()
        chunks = _read_range(response.file, start, end)
        if response.replace_byte is not None:
            chunks = _with_byte(chunks, start, *response.replace_byte)
        self._send_body(chunks, response.drop_after_bytes)

    def _send_body(self, chunks: Iterable[bytes], drop_after: int | None) -> None:
        sent = 0
        for chunk in chunks:
            if drop_after is not None and sent + len(chunk) >= drop_after:
                self.wfile.write(chunk[: max(0, drop_after - sent)])
                self.wfile.flush()
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.wfile.write(chunk)
            sent += len(chunk)


def _with_byte(chunks: Iterable[bytes], start: int, offset: int, value: int) -> Iterator[bytes]:
    """``chunks`` (the file from ``start`` on) with the byte at ``offset`` of the file replaced by ``value``."""
    at = start
    for chunk in chunks:
        if at <= offset < at + len(chunk):
            changed = bytearray(chunk)
            changed[offset - at] = value
            chunk = bytes(changed)
        at += len(chunk)
        yield chunk


def _read_range(path: Path, start: int, end: int) -> Iterator[bytes]:
    with path.open("rb") as file:
        file.seek(start)
        remaining = end - start + 1
        while remaining > 0:
            chunk = file.read(min(_CHUNK, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk


class Sandbox:
    """A running local Marketo. ``start()`` binds 127.0.0.1 (a free port when ``port=0``) and serves in a thread."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.state = SandboxState(self.config)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the sandbox is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def client_id(self) -> str:
        return self.state.client_id

    @property
    def client_secret(self) -> str:
        return self.state.client_secret

    def start(self) -> Sandbox:
        self._bind()
        assert self._server is not None
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="marketo-sandbox", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.state.close()
        if self.state.owns_data_dir:
            shutil.rmtree(self.state.data_dir, ignore_errors=True)

    def _bind(self) -> None:
        if self.config.host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the sandbox only listens on loopback")
        self._server = _Server((self.config.host, self.config.port), _Handler)
        self._server.app = build_app(self.state)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
