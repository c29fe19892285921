"""Activities that change no state (web visits, email sends and opens, scores, custom activities...): how many a
day brings, of which types, and their attribute values.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from marketo_stream.sandbox.timefmt import iso_z
from marketo_stream.sandbox.world import names
from marketo_stream.sandbox.world.assets import Assets

# Relative volumes, loosely those of a B2B instance: email and web dominate.
WEIGHTS: dict[int, float] = {
    1: 22, 2: 3, 3: 5, 6: 20, 7: 18, 8: 1, 9: 0.5, 10: 12, 11: 4, 19: 2, 21: 0.2, 22: 6, 23: 0.3, 27: 1, 36: 0.5,
    38: 0.3, 39: 0.5, 46: 2, 47: 1, 100: 0.1, 110: 0.5, 114: 0.3, 115: 0.2, 145: 0.5, 155: 1, 100001: 1.5,
    100002: 1.5,
}  # fmt: skip
# Types whose rows Marketo may commit long after the activity happened (mail servers, tracking pixels).
LATE_TYPES = frozenset({1, 6, 7, 10, 11})

Values = tuple[int | None, str | None, dict[str, Any], int | None]


def _web(r: random.Random) -> dict[str, Any]:
    return {
        "Client IP Address": f"10.{r.randrange(256)}.{r.randrange(256)}.{r.randrange(1, 255)}",
        "Query Parameters": r.choice(("", "utm_source=newsletter", "utm_campaign=spring&utm_medium=cpc")),
        "Referrer URL": r.choice(("", "https://www.google.com/", "https://news.example.org/a,b")),
        "User Agent": r.choice(names.USER_AGENTS),
    }


def _mail(r: random.Random, a: Assets) -> tuple[int, str, dict[str, Any]]:
    email = r.choice(a.emails)
    attrs = {"Campaign Run ID": r.randrange(1, 500), "Choice Number": 0, "Has Predictive": False, "Step ID": 1}
    attrs["Test Variant"] = 0
    return email.id, a.qualified(email), attrs


def _open(r: random.Random) -> dict[str, Any]:
    mobile = r.random() < 0.4
    return {
        "Device": "iPhone" if mobile else "Desktop",
        "Is Mobile Device": mobile,
        "Platform": "iOS" if mobile else "Windows",
        "User Agent": r.choice(names.USER_AGENTS),
        "Is Bot Activity": r.random() < 0.05,
        "Bot Activity Pattern": "N/A",
    }


def values(type_id: int, r: random.Random, a: Assets, at: int) -> Values:
    """(primaryAttributeValueId, primaryAttributeValue, attributes, campaignId) for one activity of this type."""
    campaign = r.choice(a.campaigns).id if a.campaigns and r.random() < 0.5 else None
    return (*_MAKERS[type_id](r, a, at), campaign)


def _visit(r: random.Random, a: Assets, at: int) -> tuple[int | None, str | None, dict[str, Any]]:
    page_id, page = r.choice(a.webpages)
    attrs = {"Webpage URL": page, "Search Engine": "", "Search Query": "", **_web(r)}
    return page_id, f"www.example.com{page}", attrs


def _form(r: random.Random, a: Assets, at: int) -> tuple[int | None, str | None, dict[str, Any]]:
    form = r.choice(a.forms)
    fields = 'a:3:{s:9:"FirstName";s:3:"Ann";s:5:"Email";s:15:"ann@example.com";s:7:"Comment";s:9:"Hi,\r\nthere";}'
    return form.id, a.qualified(form), {"Form Fields": fields, "Webpage ID": r.choice(a.webpages)[0], **_web(r)}


def _click_link(r: random.Random, a: Assets, at: int) -> tuple[int | None, str | None, dict[str, Any]]:
    page_id, page = r.choice(a.webpages)
    link = 90_000 + r.randrange(200)
    return link, f"https://www.example.com{page}?ref=link{link}", {"Webpage ID": page_id, **_web(r)}


def _send(r: random.Random, a: Assets, at: int) -> tuple[int | None, str | None, dict[str, Any]]:
    return _mail(r, a)


def _bounce(r: random.Random, a: Assets, at: int) -> tuple[int | None, str | None, dict[str, Any]]:
    email_id, name, attrs = _mail(r, a)
    attrs.update(
        {
            "Category": "1",
            "Subcategory": "1003",
            "Email": f"user{r.randrange(999)}@example.net",
            "Details": '550 5.1.1 "User unknown"\r\nRemote host said: mailbox unavailable',
        }
    )
    return email_id, name, attrs


def _unsubscribe(r: random.Random, a: Assets, at: int) -> tuple[int | None, str | None, dict[str, Any]]:
    email = r.choice(a.emails)
    return email.id, a.qualified(email), {"Campaign Run ID": r.randrange(1, 500), **_web(r)}


def _opened(r: random.Random, a: Assets, at: int) -> tuple[int | None, str | None, dict[str, Any]]:
    email_id, name, attrs = _mail(r, a)
    return email_id, name, {**attrs, **_open(r)}


def _clicked(r: random.Random, a: Assets, at: int) -> tuple[int | None, str | None, dict[str, Any]]:
    email_id, name, attrs = _mail(r, a)
    link = r.choice(names.PAGES)
    return email_id, name, {**attrs, **_open(r), "Link": f"https://www.example.com{link}", "Link ID": 70_000}


def _score(r: random.Random, a: Assets, at: int) -> tuple[int | None, str | None, dict[str, Any]]:
    old, delta = r.randrange(0, 100), r.choice((5, 10, -5, 20))
    attrs = {"Change Value": f"{delta:+d}", "Old Value": old, "New Value": old + delta, "Reason": "Visited pricing"}
    return 13, "Lead Score", attrs


def _simple(**attrs: Any) -> Callable[[random.Random, Assets, int], tuple[int | None, str | None, dict[str, Any]]]:
    def make(r: random.Random, a: Assets, at: int) -> tuple[int | None, str | None, dict[str, Any]]:
        return None, None, {k: (r.choice(v) if isinstance(v, tuple) else v) for k, v in attrs.items()}

    return make


def _on_opportunity(r: random.Random, a: Assets, at: int) -> tuple[int | None, str | None, dict[str, Any]]:
    if not a.opportunities:
        return None, None, {}
    opp = r.choice(a.opportunities)
    attrs = {"Data Type": "Currency", "New Value": str(opp.get("amount")), "Old Value": "0", "Reason": "CRM sync"}
    return opp.id, opp.name, {**attrs, "Source": "SFDC"}


def _on_campaign(r: random.Random, a: Assets, at: int) -> tuple[int | None, str | None, dict[str, Any]]:
    campaign = r.choice(a.campaigns)
    return campaign.id, campaign.name, {"Source": "Web service API"}


def _execute(r: random.Random, a: Assets, at: int) -> tuple[int | None, str | None, dict[str, Any]]:
    campaign = r.choice(a.campaigns)
    return campaign.id, campaign.name, {"Used Parent Campaign Token Context": False, "Qualified": True}


def _nurture(r: random.Random, a: Assets, at: int) -> tuple[int | None, str | None, dict[str, Any]]:
    program = r.choice(a.programs)
    attrs = {"New Track ID": 2, "Track Name": "Track B", "Previous Track ID": 1, "Previous Track Name": "Track A"}
    return program.id, program.name, attrs


def _cadence(r: random.Random, a: Assets, at: int) -> tuple[int | None, str | None, dict[str, Any]]:
    program = r.choice(a.programs)
    return program.id, program.name, {"New Nurture Cadence": "Paus", "Previous Nurture Cadence": "Norm"}


def _webinar(r: random.Random, a: Assets, at: int) -> tuple[int | None, str | None, dict[str, Any]]:
    title = r.choice(("Kafka for Marketers", "Data Contracts 101", 'Q&A: "exactly once"'))
    attrs = {
        "Minutes Attended": r.randrange(1, 90),
        "Asked Question": r.random() < 0.2,
        "Host": r.choice(("Ana", "Wei")),
        "Rating": round(r.uniform(1, 5), 1),
    }
    return None, title, attrs


def _purchase(r: random.Random, a: Assets, at: int) -> tuple[int | None, str | None, dict[str, Any]]:
    sku, price = r.choice(names.PRODUCTS)
    quantity = r.randrange(1, 5)
    attrs = {
        "Amount": round(price * quantity, 2),
        "Quantity": quantity,
        "Currency Code": "USD",
        "Order Date": iso_z(at),
        "Coupon": r.choice(("", "SPRING10")),
    }
    return None, sku, attrs


def _partition(r: random.Random, a: Assets, at: int) -> tuple[int | None, str | None, dict[str, Any]]:
    return 2, "EMEA", {"Old Partition ID": 1, "Reason": "Region rule"}


def _webhook(r: random.Random, a: Assets, at: int) -> tuple[int | None, str | None, dict[str, Any]]:
    return 11, "Enrich lead", {"Error Type": r.choice(("", "Timeout")), "Response": '{"ok": true}'}


def _alert(r: random.Random, a: Assets, at: int) -> tuple[int | None, str | None, dict[str, Any]]:
    email = r.choice(a.emails)
    return email.id, a.qualified(email), {"Send To Owner": "Lead Owner", "Send To List": "sales@example.com"}


_MAKERS: dict[int, Callable[[random.Random, Assets, int], tuple[int | None, str | None, dict[str, Any]]]] = {
    1: _visit, 2: _form, 3: _click_link, 6: _send, 7: _send, 8: _bounce, 27: _bounce, 9: _unsubscribe, 10: _opened,
    11: _clicked, 22: _score, 36: _on_opportunity, 47: _on_campaign, 155: _execute, 114: _nurture, 115: _cadence,
    100001: _webinar, 100002: _purchase, 100: _partition, 110: _webhook, 38: _alert,
    19: _simple(**{"Assign To": ("Queue", "Owner"), "Reason": "Score over 50"}),
    21: _simple(**{"Converted Status": "Qualified", "Reason": "Sales accepted"}),
    23: _simple(**{"New Owner": ("Ana Silva", "Wei Zhang"), "Old Owner": "Unassigned", "Reason": "Territory"}),
    39: _simple(**{"Marketo Sales Person ID": 42, "Sales Campaign Name": "Follow-up", "Sales Template Name": "T1"}),
    46: _simple(**{"Description": ("Visited pricing twice", "Opened 3 emails"), "Source": "Web", "Type": "Web"}),
    145: _simple(**{"API Method Name": "pushLead", "Source": "Web service API"}),
}  # fmt: skip
