"""The one Marketo → Avro name mapping, and how colliding names are settled."""

from __future__ import annotations

import re

import pytest

from marketo_stream.schema.names import assign_names, avro_name

AVRO_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@pytest.mark.parametrize(
    ("marketo", "avro"),
    [
        ("firstName", "first_name"),
        ("Client IP Address", "client_ip_address"),
        ("Webpage ID", "webpage_id"),
        ("SFDC Type", "sfdc_type"),
        ("marketoGUID", "marketo_guid"),
        ("primaryAttributeValueId", "primary_attribute_value_id"),
        ("SFDCType", "sfdc_type"),
        ("HTMLEmail", "html_email"),
        ("Merge IDs", "merge_ids"),
        ("leadIDs", "lead_ids"),
        ("score2Value", "score2_value"),
        ("Custom_Field__c", "custom_field_c"),
        ("1st Touch", "_1st_touch"),
        ("Prénom", "prenom"),
        ("Lead Score (%)", "lead_score"),
        ("", "field"),
        ("日本語", "field"),
        ("id", "id"),
    ],
)
def test_marketo_names_map_to_snake_case_avro_names(marketo: str, avro: str) -> None:
    assert avro_name(marketo) == avro
    assert AVRO_NAME.match(avro)


def test_collisions_get_numbered_suffixes_in_the_sorted_order_of_marketo_names() -> None:
    names = assign_names(["first_name", "firstName", "First Name"])
    assert names == {"first_name": "first_name_3", "firstName": "first_name_2", "First Name": "first_name"}


def test_collision_handling_does_not_depend_on_the_order_metadata_arrives_in() -> None:
    forwards = assign_names(["firstName", "First Name", "FIRST NAME", "email"])
    backwards = assign_names(["email", "FIRST NAME", "First Name", "firstName"])
    assert forwards == backwards


def test_reserved_names_are_never_handed_out() -> None:
    assert assign_names(["Lead ID"], reserved=["lead_id"]) == {"Lead ID": "lead_id_2"}


def test_published_names_stay_with_their_marketo_name_when_a_colliding_field_appears() -> None:
    published = assign_names(["firstName"])
    later = assign_names(["First Name", "firstName"], taken=published)
    assert later == {"First Name": "first_name_2", "firstName": "first_name"}


def test_a_published_name_is_not_reused_for_another_field_after_its_field_disappears() -> None:
    later = assign_names(["First Name"], taken={"firstName": "first_name"})
    assert later == {"First Name": "first_name_2"}
