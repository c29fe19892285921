"""The hot renderers (timestamps, CSV lines) spell every value exactly as their plain versions do."""

from __future__ import annotations

import datetime as dt
import json
import random

from marketo_stream.sandbox.bulk.csvfile import cell, line
from marketo_stream.sandbox.timefmt import iso_date, iso_z


def _plain_iso_z(epoch: float) -> str:
    return dt.datetime.fromtimestamp(int(epoch), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _plain_cell(value: object) -> str:
    if value is None or value == "":
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def _plain_line(values: list[object], delimiter: str) -> str:
    out = []
    for value in values:
        text = _plain_cell(value)
        if any(ch in text for ch in (delimiter, '"', "\n", "\r")):
            text = '"' + text.replace('"', '""') + '"'
        out.append(text)
    return delimiter.join(out) + "\n"


def test_timestamps_are_spelled_as_the_standard_library_spells_them() -> None:
    r = random.Random(1)
    edges = [0, 0.5, 59, 86_399, 86_399.9, 86_400, 951_782_400, 1_793_631_600.7, 253_402_300_799, -1, -0.5, -86_401]
    moments = (
        edges
        + [r.uniform(-2e9, 253_402_300_799) for _ in range(20_000)]
        + [r.randrange(1_700_000_000, 1_900_000_000) for _ in range(20_000)]
    )
    for epoch in moments:
        assert iso_z(epoch) == _plain_iso_z(epoch), epoch
        assert iso_date(epoch) == _plain_iso_z(epoch)[:10], epoch


def test_csv_lines_quote_and_spell_values_as_the_plain_writer_does() -> None:
    values: list[object] = [
        None, "", "null", "plain", 'a "quote"', "a,comma", "tab\there", "semi;colon", "lone\rCR", "CRLF\r\nin", "LF\n",
        "Käufer — ü", 0, -7, 3.25, 1e21, True, False, {}, {"a": 1, "b": 'x"y', "c": [1, None], "é": "ü"}, [],
        [1, "a,b"],
    ]  # fmt: skip
    r = random.Random(2)
    for delimiter in (",", "\t", ";"):
        for value in values:
            assert line([value], delimiter) == _plain_line([value], delimiter)
            assert cell(value) == _plain_cell(value)
        for _ in range(5_000):
            row = [r.choice(values) for _ in range(r.randrange(0, 9))]
            assert line(row, delimiter) == _plain_line(row, delimiter), row
