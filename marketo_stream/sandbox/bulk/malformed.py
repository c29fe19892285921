"""Export rows broken as Marketo breaks them, before the file's checksum is computed (``malformed_rows``).

Marketo writes attribute values with unescaped quotes, and attributes that are not JSON. The setting
``malformed_rows`` names ``(record number, kind)`` pairs: in every export of the kinds ``malformed_exports`` names
(activities by default; also ``leads``, ``program_members``, ``customobject``) with that many records, that record
(1-based, counted after the header) is rewritten. ``quote`` leaves the inner quotes of a cell undoubled: the
``attributes`` cell, or in a file without one the row's first text cell that is not a key (an email, a VIN),
whose unescaped quotes then hold a delimiter, so the row reads as one cell too many; ``json`` cuts
the attributes' JSON short (a file without ``attributes`` keeps such a row whole). The file is then served with a
checksum of what it holds, and each broken row is listed (export id, physical line, its text) for ``truth``'s
``_rejected`` table.
"""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path
from typing import Any

from marketo_stream.sandbox.bulk import csvfile

KINDS = ("quote", "json")


def corrupt(
    written: csvfile.WrittenFile, export_id: str, rows: tuple[tuple[int, str], ...], delimiter: str
) -> tuple[csvfile.WrittenFile, list[dict[str, Any]]]:
    """The file with the chosen records broken, and what was broken; the file unchanged when none applies."""
    wanted = {number: kind for number, kind in rows if number <= written.records}
    if not wanted:
        return written, []
    text = written.path.read_text(encoding="utf-8")
    records = _records(text, delimiter)
    header = next(csv.reader(io.StringIO(records[0][1]), delimiter=delimiter))
    attributes = header.index("attributes") if "attributes" in header else None
    guid_at = header.index("marketoGUID") if "marketoGUID" in header else None
    broken: list[dict[str, Any]] = []
    out: list[str] = [records[0][1]]
    for number, (line, raw) in enumerate(records[1:], 1):
        kind = wanted.get(number)
        if kind is not None:
            fields = next(csv.reader(io.StringIO(raw), delimiter=delimiter))
            at = attributes if attributes is not None or kind == "json" else _text_cell(header, fields)
            if at is not None:
                guid = fields[guid_at] if guid_at is not None else None
                raw = _broken(fields, at, kind, delimiter)
                entry = {"export_id": export_id, "line": line, "kind": kind, "marketoGUID": guid, "raw": raw[:-1]}
                broken.append(entry)
        out.append(raw)
    data = "".join(out).encode("utf-8")
    Path(written.path).write_bytes(data)
    fixed = csvfile.WrittenFile(written.path, written.records, len(data), "sha256:" + hashlib.sha256(data).hexdigest())
    return fixed, broken


def _records(text: str, delimiter: str) -> list[tuple[int, str]]:
    """``(first physical line, text with its line end)`` of the header and each record (quoted line ends kept)."""
    lines = text.splitlines(keepends=True)
    found: list[tuple[int, str]] = []
    index = 0
    while index < len(lines):
        start, chunk = index, lines[index]
        index += 1
        while chunk.count('"') % 2 and index < len(lines):
            chunk += lines[index]
            index += 1
        found.append((start + 1, chunk))
    return found


_KEYS = ("marketoGUID", "id", "leadId", "programId")


def _text_cell(header: list[str], fields: list[str]) -> int | None:
    """The first cell holding text (not a key, null, a number, a time or a boolean), or None."""
    for at, (name, value) in enumerate(zip(header, fields, strict=False)):
        if name in _KEYS or value in ("", "null", "true", "false"):
            continue
        if not value[:1].isdigit() and value[:1] != "-":
            return at
    return None


def _broken(fields: list[str], at: int, kind: str, delimiter: str) -> str:
    attributes = fields[at] if fields[at] not in ("", "null") else '{"note":"x"}'
    cells = [csvfile.line([value], delimiter).rstrip("\n") for value in fields]
    if kind == "quote" and not attributes.startswith("{"):
        cells[at] = '"' + attributes + ' said "hi' + delimiter + ' there" twice"'
    elif kind == "quote":
        cells[at] = '"' + attributes.replace("}", ',"said":"a "quoted" word"}') + '"'
    elif kind == "json":
        cells[at] = csvfile.line([attributes[:-1] + ',"cut'], delimiter).rstrip("\n")
    else:
        raise ValueError(f"malformed_rows: unknown kind {kind!r}; known: {', '.join(KINDS)}")
    return delimiter.join(cells) + "\n"
