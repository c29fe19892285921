"""The one Marketo → Avro name mapping, and how colliding names are settled."""

from __future__ import annotations

import hashlib
import re

import pytest

from marketo_stream.schema.names import MAX_FIELD_NAME, MAX_TABLE_NAME, assign_names, avro_name, cap, table_name

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


LONG_FIELD = "partnerCertificationLevelForTheNorthAmericanChannelProgramAfterTheMerger"
LONG_TYPE = "Completed Partner Certification Exam In The Channel Portal"


def test_names_within_their_cap_are_unchanged() -> None:
    assert cap("a" * 63, 63) == "a" * 63
    assert table_name("activity", "Visit Webpage") == "activity_visit_webpage"
    assert table_name("custom_object", "car_c") == "custom_object_car_c"


def test_a_long_field_name_is_cut_to_63_with_a_stable_hash_of_the_whole_name() -> None:
    snake = "partner_certification_level_for_the_north_american_channel_program_after_the_merger"
    digest = hashlib.sha1(snake.encode()).hexdigest()[:8]
    assert avro_name(LONG_FIELD) == f"{snake[:54]}_{digest}"
    assert len(avro_name(LONG_FIELD)) <= MAX_FIELD_NAME == 63
    assert AVRO_NAME.match(avro_name(LONG_FIELD))


def test_long_names_sharing_their_start_stay_apart() -> None:
    other = LONG_FIELD.replace("Merger", "Spinoff")
    assert avro_name(LONG_FIELD)[:54] == avro_name(other)[:54]
    assert avro_name(LONG_FIELD) != avro_name(other)


def test_a_long_table_name_leaves_room_for_the_topic_prefix() -> None:
    name = table_name("activity", LONG_TYPE)
    assert name.startswith("activity_completed_partner_cert")
    assert len(name) == MAX_TABLE_NAME == 48
    assert len(f"marketo_{name}") <= 63


def test_a_cut_never_leaves_a_double_underscore() -> None:
    cut = cap("ab_" * 30, 63)
    assert "__" not in cut and len(cut) <= 63


def test_colliding_long_names_get_capped_distinct_names() -> None:
    spaced = "Partner Certification Level For The North American Channel Program After The Merger"
    names = assign_names([LONG_FIELD, spaced])
    assert avro_name(LONG_FIELD) == avro_name(spaced)
    assert len(set(names.values())) == 2
    assert all(len(n) <= MAX_FIELD_NAME and AVRO_NAME.match(n) for n in names.values())
