"""The bulk CSV reader: Marketo's quirks read right, and no malformed row lost in silence."""

from __future__ import annotations

from pathlib import Path

import pytest

from marketo_stream.bulk.csvfile import ExportRows, QuarantinedRow, count_records, read_rows
from marketo_stream.bulk.errors import MalformedRowError


def write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "export.csv"
    path.write_bytes(data)
    return path


def test_null_and_empty_values_read_as_none(tmp_path: Path) -> None:
    path = write(tmp_path, b"firstName,lastName,email\nRussell,Wilson,null\nAnn,,x@example.com\n")
    assert list(read_rows(path)) == [
        {"firstName": "Russell", "lastName": "Wilson", "email": None},
        {"firstName": "Ann", "lastName": None, "email": "x@example.com"},
    ]


def test_quoted_values_keep_commas_doubled_quotes_and_crlf(tmp_path: Path) -> None:
    path = write(tmp_path, b'id,details\n1,"a, ""b""\r\nsecond line"\n2,plain\n')
    rows = list(read_rows(path))
    assert rows == [{"id": "1", "details": 'a, "b"\r\nsecond line'}, {"id": "2", "details": "plain"}]


def test_unicode_line_separators_stay_inside_their_value(tmp_path: Path) -> None:
    path = write(tmp_path, "id,text\n1,one\u2028two\u2029three\n2,x\n".encode())
    assert [r["text"] for r in read_rows(path)] == ["one\u2028two\u2029three", "x"]


def test_nul_bytes_are_stripped(tmp_path: Path) -> None:
    path = write(tmp_path, b"id,text\n1,ab\x00c\n")
    assert list(read_rows(path)) == [{"id": "1", "text": "abc"}]


def test_very_large_cells_are_read_whole(tmp_path: Path) -> None:
    big = "x" * (1 << 20) * 3
    path = write(tmp_path, f'id,text\n1,"{big}"\n'.encode())
    assert [len(r["text"]) for r in read_rows(path)] == [len(big)]


def test_attributes_column_is_parsed_as_a_json_object(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        b"marketoGUID,attributes\n"
        b'7,"{""Old Status"":""Not in Program"",""Success"":true,""New Status ID"":6}"\n'
        b"8,null\n",
    )
    rows = list(read_rows(path))
    assert rows[0]["attributes"] == {"Old Status": "Not in Program", "Success": True, "New Status ID": 6}
    assert rows[1]["attributes"] is None


def test_attributes_in_the_old_name_value_list_shape_become_an_object(tmp_path: Path) -> None:
    path = write(tmp_path, b'id,attributes\n1,"[{""name"":""Score"",""value"":5}]"\n')
    assert next(read_rows(path))["attributes"] == {"Score": 5}


def test_wrong_column_count_goes_to_quarantine_with_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, b'a,b\n1,2\n"multi\nline",2,3\n4,5\n')
    caught: list[QuarantinedRow] = []
    rows = list(read_rows(path, quarantine=caught.append))
    assert rows == [{"a": "1", "b": "2"}, {"a": "4", "b": "5"}]
    assert len(caught) == 1
    assert (caught[0].file, caught[0].line) == (path, 3)
    assert "3 columns" in caught[0].reason
    assert caught[0].fields == ("multi\nline", "2", "3")


def test_bad_json_goes_to_quarantine(tmp_path: Path) -> None:
    path = write(tmp_path, b'id,attributes\n1,"{not json"\n2,"[1,2]"\n3,"{}"\n')
    caught: list[QuarantinedRow] = []
    rows = list(read_rows(path, quarantine=caught.append))
    assert rows == [{"id": "3", "attributes": {}}]
    assert [(q.line, "attributes" in q.reason) for q in caught] == [(2, True), (3, True)]


def test_invalid_utf8_goes_to_quarantine(tmp_path: Path) -> None:
    path = write(tmp_path, b"id,text\n1,caf\xe9\n2,ok\n")
    caught: list[QuarantinedRow] = []
    assert list(read_rows(path, quarantine=caught.append)) == [{"id": "2", "text": "ok"}]
    assert [(q.line, q.reason) for q in caught] == [(2, "invalid UTF-8")]


def test_malformed_row_without_quarantine_raises_a_clear_error(tmp_path: Path) -> None:
    path = write(tmp_path, b"a,b\n1,2\n1,2,3\n")
    rows = read_rows(path)
    assert next(rows) == {"a": "1", "b": "2"}
    with pytest.raises(MalformedRowError) as caught:
        next(rows)
    assert caught.value.line == 3
    assert str(path) in str(caught.value)


def test_count_records_counts_rows_not_lines(tmp_path: Path) -> None:
    path = write(tmp_path, b'a,b\n1,"x\ny"\n2,z\n')
    assert count_records(path) == 2
    assert count_records(write(tmp_path, b"a,b\n")) == 0
    assert count_records(write(tmp_path, b"")) == 0


def test_header_only_file_has_no_rows(tmp_path: Path) -> None:
    assert list(read_rows(write(tmp_path, b"a,b\n"))) == []


def test_a_record_count_other_than_marketos_is_logged_once_the_file_is_read(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write(tmp_path, b'id,text\n1,"a\nb"\n2,x,extra\n3,c\n')
    quarantined: list[QuarantinedRow] = []
    with caplog.at_level("WARNING", logger="marketo_stream.bulk"):
        assert len(list(ExportRows(path, quarantine=quarantined.append, expected_records=3))) == 2
        assert not caplog.records, "a quoted line break and a quarantined row are records all the same"
        assert len(list(ExportRows(path, quarantine=quarantined.append, expected_records=4))) == 2
    assert [r.getMessage() for r in caplog.records] == ["export.csv: 3 records read where Marketo reported 4"]
