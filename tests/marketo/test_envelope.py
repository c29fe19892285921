"""Parsing Marketo's envelope: one shape for every API, whatever it leaves out."""

from __future__ import annotations

import pytest

from marketo_stream.marketo.envelope import parse_envelope
from marketo_stream.marketo.errors import MarketoProtocolError


def test_failure_with_http_200_is_not_success_and_keeps_codes_as_strings() -> None:
    envelope = parse_envelope(
        b'{"requestId":"a#b","success":false,"errors":[{"code":601,"message":"Access token invalid"}]}'
    )
    assert not envelope.success
    assert envelope.first_error is not None and envelope.first_error.code == "601"
    assert envelope.request_id == "a#b"


def test_missing_result_on_an_empty_activity_page_reads_as_no_rows() -> None:
    envelope = parse_envelope(b'{"requestId":"x","success":true,"moreResult":true,"nextPageToken":"T"}')
    assert envelope.result == [] and not envelope.has_result
    assert (envelope.more_result, envelope.next_page_token) == (True, "T")


def test_asset_end_of_paging_is_recognised() -> None:
    body = b'{"success":true,"errors":[],"requestId":"x","warnings":["No assets found for the given search criteria."]}'
    assert parse_envelope(body).no_assets_found


def test_warnings_as_objects_or_strings_both_read() -> None:
    body = b'{"success":true,"result":[],"warnings":[{"code":1003,"message":"odd"},"plain"]}'
    assert parse_envelope(body).warnings == ("1003: odd", "plain")


@pytest.mark.parametrize("body", [b"<html>Bad Gateway</html>", b"[]", b'{"result":[]}'])
def test_answers_that_are_not_an_envelope_raise_a_protocol_error(body: bytes) -> None:
    with pytest.raises(MarketoProtocolError):
        parse_envelope(body)
