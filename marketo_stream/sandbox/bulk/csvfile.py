"""Export files as Marketo writes them: a header of API names (renamed by ``columnHeaderNames``), the literal
``null`` for empty values, RFC 4180 quoting with embedded newlines kept, ``\\n`` line ends, UTF-8.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path

DELIMITERS = {"CSV": ",", "TSV": "\t", "SSV": ";"}  # SSV: semicolon (Marketo's docs disagree; see the README)


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
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


class _HashingWriter:
    """A text sink that counts and hashes the exact bytes written, so ``fileChecksum`` matches what is served."""

    def __init__(self, path: Path) -> None:
        self._file = path.open("wb")
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, text: str) -> int:
        data = text.encode("utf-8")
        self._file.write(data)
        self.digest.update(data)
        self.size += len(data)
        return len(text)

    def close(self) -> None:
        self._file.close()


def line(values: Iterable[object], delimiter: str) -> str:
    """One record; a value holding the delimiter, a quote, CR or LF is quoted (the stdlib writer misses a lone CR)."""
    special = (delimiter, '"', "\n", "\r")
    out = []
    for value in values:
        text = cell(value)
        if any(ch in text for ch in special):
            text = '"' + text.replace('"', '""') + '"'
        out.append(text)
    return delimiter.join(out) + "\n"


def write(path: Path, file_format: str, header: list[str], rows: Iterable[list[object]]) -> WrittenFile:
    """Writes to a temporary name first so a half-written file is never served."""
    partial = path.with_suffix(path.suffix + ".partial")
    sink = _HashingWriter(partial)
    delimiter = DELIMITERS[file_format]
    records = 0
    try:
        sink.write(line(header, delimiter))
        for row in rows:
            sink.write(line(row, delimiter))
            records += 1
    finally:
        sink.close()
    os.replace(partial, path)
    return WrittenFile(path, records, sink.size, "sha256:" + sink.digest.hexdigest())
