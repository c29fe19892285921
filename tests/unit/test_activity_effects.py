from marketo_stream.activity_effects import Effects, merged_ids


def act(type_id: int, lead: int, guid: str, date: str = "2026-11-01T00:00:00Z", **extra: object) -> dict:
    return {"activityTypeId": str(type_id), "leadId": str(lead), "marketoGUID": guid, "activityDate": date, **extra}


def test_new_lead_and_changed_values_name_leads_to_reread() -> None:
    effects = Effects()
    effects.absorb_all([act(12, 1, "a"), act(13, 2, "b"), act(1, 3, "c")])
    assert effects.leads_to_refresh == {1, 2}


def test_merge_tombstones_the_losers_and_rereads_the_winner() -> None:
    effects = Effects()
    effects.absorb(act(32, 10, "m", attributes={"Merge IDs": [11, 12], "Merged in Sales": False}))
    assert effects.merged_away == {11, 12}
    assert 10 in effects.leads_to_refresh


def test_merge_ids_are_read_from_every_form_marketo_writes() -> None:
    assert merged_ids('{"Merge IDs": [5, 6]}') == [5, 6]
    assert merged_ids([{"name": "Merge IDs", "value": [7]}]) == [7]
    assert merged_ids({"Merge IDs": "[8,9]"}) == [8, 9]
    assert merged_ids(None) == []


def test_the_latest_list_activity_decides_membership_whatever_order_rows_arrive_in() -> None:
    effects = Effects()
    effects.absorb(act(25, 1, "2", "2026-11-02T00:00:00Z", primaryAttributeValueId="77"))
    effects.absorb(act(24, 1, "1", "2026-11-01T00:00:00Z", primaryAttributeValueId="77"))
    change = effects.list_changes[(77, 1)]
    assert change.added is False


def test_program_activities_name_programs_and_opportunity_activities_name_leads() -> None:
    effects = Effects()
    effects.absorb_all(
        [
            act(104, 1, "a", primaryAttributeValueId="500"),
            act(113, 2, "b", primaryAttributeValueId="501"),
            act(34, 3, "c"),
        ]
    )
    assert effects.programs_to_refresh == {500, 501}
    assert effects.opportunity_leads == {3}


def test_effects_survive_a_json_round_trip_and_merge() -> None:
    a = Effects()
    a.absorb_all([act(12, 1, "a"), act(24, 1, "b", primaryAttributeValueId="9")])
    b = Effects.from_json(a.to_json())
    assert b.to_json() == a.to_json()
    c = Effects()
    c.absorb(act(25, 1, "z", "2026-12-01T00:00:00Z", primaryAttributeValueId="9"))
    b.merge(c)
    assert b.list_changes[(9, 1)].added is False
