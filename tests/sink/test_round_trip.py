"""Every kind of table goes through the sink and comes back equal, decoded with the schema from the registry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from marketo_stream.schema import (
    AvroTable,
    RowConverter,
    activity_table,
    custom_object_table,
    fixed_table,
    lead_table,
)
from marketo_stream.sink import RUN_ID_HEADER, SINK_FIELDS, SYNCED_AT_FIELD, TABLE_HEADER, KafkaSink, TableSchema
from marketo_stream.sink.fields import with_sink_fields
from tests.schema.test_tables import CAR, LEAD_FIELDS
from tests.sink.kafka_reading import RegistryDecoder, plain, read_topic

pytestmark = pytest.mark.kafka

CUSTOM_ACTIVITY = {
    "id": 100001,
    "name": "Attended Webinar Poll",
    "apiName": "webinarPoll_c",
    "primaryAttribute": {"name": "Poll", "dataType": "string"},
    "attributes": [
        {"name": "Answer", "dataType": "string", "apiName": "answer"},
        {"name": "Score", "dataType": "integer", "apiName": "score"},
        {"name": "Answered At", "dataType": "datetime", "apiName": "answeredAt"},
    ],
}
CASES: dict[str, tuple[AvroTable, list[dict[str, Any]]]] = {
    "lead with custom fields": (
        lead_table(LEAD_FIELDS),
        [
            {"id": "1", "email": "ada@example.com", "createdAt": "2024-01-02T03:04:05Z", "Favourite_Colour__c": "red"},
            {"id": 2, "firstName": "Grace", "unsubscribed": True, "dateOfBirth": "1906-12-09", "leadScore": 70},
        ],
    ),
    "custom activity type": (
        activity_table(CUSTOM_ACTIVITY),
        [
            {
                "marketoGUID": "783958220",
                "leadId": "5414094",
                "activityDate": "2022-02-13T14:08:50Z",
                "activityTypeId": "100001",
                "primaryAttributeValue": "Q1 poll",
                "attributes": '{"Answer": "yes", "Score": 3, "Answered At": "2022-02-13T14:08:49Z"}',
            },
            {
                "marketoGUID": "783958221",
                "leadId": 7,
                "activityDate": "2022-02-13T14:09:50Z",
                "activityTypeId": 100001,
                "attributes": [{"name": "Answer", "value": "no"}, {"apiName": "score", "name": "Score", "value": 1}],
            },
        ],
    ),
    "fixed table": (
        fixed_table("program"),
        [
            {
                "id": 1107,
                "name": "AAA2QueryProgramName",
                "createdAt": "2015-05-21T22:45:13Z+0000",
                "folder": {"type": "Folder", "value": 1910, "folderName": "ProgramQueryTestFolder"},
                "headStart": False,
                "tags": [{"tagType": "AAA1 Required Tag Type", "tagValue": "AAA1 RT1"}],
            }
        ],
    ),
    "composite-key membership": (
        fixed_table("program_membership"),
        [
            {"leadId": "1789", "programId": "1001", "statusName": "Attended", "reachedSuccess": "true"},
            {"leadId": "1789", "programId": "1002", "membershipDate": "2020-01-08T18:10:26Z"},
        ],
    ),
    "custom object": (
        custom_object_table(CAR),
        [{"marketoGUID": "dff23271-f996-47d7-984f-f2676861b5fa", "leadId": 3, "vIN": "19UYA31581L000000"}],
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_a_table_round_trips_through_kafka_and_the_registry(
    case: str, open_sink: Callable[..., KafkaSink], bootstrap_servers: str, decode: RegistryDecoder
) -> None:
    table, rows = CASES[case]
    sink = open_sink()
    sink.prepare(TableSchema(table.name, table.name, table.key_schema, table.value_schema, table.compacted))
    convert = RowConverter(table.value_schema)
    expected = [convert(row) for row in rows]
    with sink.transaction() as batch:
        for record in expected:
            batch.upsert(table.name, {k: record[k] for k in table.key_fields}, record)

    published = read_topic(bootstrap_servers, sink.config.topic(table.name))
    values = [plain(decode(r.value)) for r in published if r.value]
    assert [{k: v for k, v in value.items() if k not in SINK_FIELDS} for value in values] == expected
    assert {value[SYNCED_AT_FIELD] for value in values} == {batch.synced_at_ms}
    assert [plain(decode(r.key)) for r in published] == [{k: e[k] for k in table.key_fields} for e in expected]
    assert {r.headers for r in published} == {
        ((RUN_ID_HEADER, sink.run_id.encode()), (TABLE_HEADER, table.name.encode()))
    }
    registered = decode.schema(int.from_bytes(published[0].value[1:5], "big"))  # type: ignore[index]
    assert registered == with_sink_fields(table.value_schema, delete_flag=False)
