"""Export files as Marketo writes them: a header of API names (renamed by ``columnHeaderNames``), the literal
``null`` for empty values, RFC 4180 quoting with embedded newlines kept, ``\\n`` line ends, UTF-8.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import cast

DELIMITERS = {"CSV": ",", "TSV": "\t", "SSV": ";"}  # SSV: semicolon (Marketo's docs disagree; see the README)

_compact_json = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


@dataclasses.dataclass(frozen=True)
class WrittenFile:
    path: Path
    records: int
    size: int
    sha256: str


def cell(value: object) -> str:
    if value is None or value == "":
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return _compact_json(value)
    return str(value)


@functools.cache
def _needs_quotes(delimiter: str) -> Callable[[str], object]:
    return re.compile("[" + re.escape(delimiter) + '"\n\r]').search


_quote_or_line_end = re.compile('["\n\r]').search


def line(values: Iterable[object], delimiter: str) -> str:
    """One record; a value holding the delimiter, a quote, CR or LF is quoted (the stdlib writer misses a lone CR).

    Every row of every export passes here, so ``cell`` is spelled out inline, and quoting is looked for value by
    value only when the joined line holds a quote, a line end, or more delimiters than it has separators."""
    out: list[str] = []
    append = out.append
    for value in values:
        kind = type(value)
        if kind is str:
            append(cast(str, value) or "null")
        elif value is None:
            append("null")
        elif kind is bool:
            append("true" if value else "false")
        elif kind is int or kind is float:
            append(str(value))
        else:
            append(cell(value))
    joined = delimiter.join(out)
    if joined.count(delimiter) == len(out) - 1 and not _quote_or_line_end(joined):
        return joined + "\n"
    needs_quotes = _needs_quotes(delimiter)
    return delimiter.join('"' + t.replace('"', '""') + '"' if needs_quotes(t) else t for t in out) + "\n"


class _HashingWriter:
    """A byte sink that counts and hashes the exact bytes written, so ``fileChecksum`` matches what is served.
    Writes to a temporary name first so a half-written file is never served."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._partial = path.with_suffix(path.suffix + ".partial")
        self._file = self._partial.open("wb")
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self._file.write(data)
        self.digest.update(data)
        self.size += len(data)

    def close(self) -> None:
        self._file.close()

    def publish(self, records: int) -> WrittenFile:
        os.replace(self._partial, self._path)
        return WrittenFile(self._path, records, self.size, "sha256:" + self.digest.hexdigest())


def write(path: Path, file_format: str, header: list[str], rows: Iterable[list[object]]) -> WrittenFile:
    delimiter = DELIMITERS[file_format]
    sink = _HashingWriter(path)
    records = 0
    try:
        sink.write(line(header, delimiter).encode("utf-8"))
        pending: list[str] = []
        for row in rows:
            pending.append(line(row, delimiter))
            records += 1
            if len(pending) >= 1024:
                sink.write("".join(pending).encode("utf-8"))
                pending.clear()
        sink.write("".join(pending).encode("utf-8"))
    finally:
        sink.close()
    return sink.publish(records)


def write_lines(path: Path, header: bytes, chunks: Iterable[tuple[bytes, int]]) -> WrittenFile:
    """A file from lines rendered ahead of time: the header, then ``(bytes, record count)`` chunks."""
    sink = _HashingWriter(path)
    records = 0
    try:
        sink.write(header)
        for data, count in chunks:
            sink.write(data)
            records += count
    finally:
        sink.close()
    return sink.publish(records)
