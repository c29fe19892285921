"""Writing one file answer to disk so that an interrupted transfer can pick up where it stopped.

Marketo drops long bulk downloads; what arrived stays on disk and the next attempt asks for the rest
with ``Range: bytes=<size>-``. A server that ignores the range (200) restarts the file; a 206 that does
not start where we stopped, or a 416 for a file shorter than ours, means our bytes are not a prefix of
the file, so they are discarded and the transfer starts over.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import requests

from marketo_stream.marketo.errors import RetryableError
from marketo_stream.marketo.resolution import resolve
from marketo_stream.marketo.retry import Again
from marketo_stream.marketo.secrets import redact

_CONTENT_RANGE = re.compile(r"bytes\s+(?:(\d+)-\d+|\*)/(\d+|\*)")


def _content_range(header: str | None) -> tuple[int | None, int | None]:
    """(first byte, total size) of a ``Content-Range`` header, None where absent or ``*``."""
    match = _CONTENT_RANGE.match(header or "")
    if not match:
        return None, None
    first, total = match.groups()
    return (int(first) if first else None), (int(total) if total and total != "*" else None)


def _restart(dest: Path, why: str) -> Again:
    dest.unlink(missing_ok=True)
    return Again(resolve("connection"), RetryableError("range", why), wait=0.0)


def stream_to_file(
    response: requests.Response, dest: Path, offset: int, chunk_bytes: int, on_bytes: Callable[[int], None]
) -> int:
    """Append (206) or write (200) the body to ``dest``; the file's size after a complete transfer."""
    first, total = _content_range(response.headers.get("Content-Range"))
    if response.status_code == 416:
        if total is not None and total == offset:
            return offset
        raise _restart(dest, f"range from byte {offset} refused; the file holds {total} bytes")
    if response.status_code == 206:
        if first != offset:
            raise _restart(dest, f"asked for bytes from {offset}, got a range starting at {first}")
        mode = "ab"
    else:
        offset, mode = 0, "wb"
    length_header = response.headers.get("Content-Length")
    expected = int(length_header) if length_header and length_header.isdigit() else None
    written = 0
    # urllib3 would discard the bytes of a short last read to raise IncompleteRead; we keep them and
    # compare with Content-Length ourselves, so a resume starts after every byte that arrived.
    if hasattr(response.raw, "enforce_content_length"):
        response.raw.enforce_content_length = False
    try:
        with dest.open(mode) as out:
            for chunk in response.iter_content(chunk_bytes):
                out.write(chunk)
                written += len(chunk)
                on_bytes(len(chunk))
    except requests.RequestException as exc:
        message = f"download dropped after {offset + written} bytes: {redact(str(exc))}"
        raise Again(resolve("connection"), RetryableError("connection", message)) from None
    if expected is not None and written < expected:
        message = f"download ended after {offset + written} of {offset + expected} bytes"
        raise Again(resolve("connection"), RetryableError("connection", message))
    return offset + written
