"""The handoff API: the queue, a call with BANT, promotion (409 naming what is missing)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from handoff.models import Pool, Stage

pytestmark = pytest.mark.django_db

QUEUE = "/api/v1/handoff/leads"


def test_the_queue_lists_items_with_stage_owner_sla_and_bant(api_client, make_rep, make_cycle):
    rep = make_rep("api-rep")
    cycle = make_cycle(owner=rep)
    body = api_client.get(QUEUE).json()
    (row,) = body["results"]
    assert row["id"] == cycle.pk and row["lead"] == cycle.contact_id
    assert (row["lead_type"], row["stage"], row["owner"], row["sla_state"]) == (
        "contact", "mql", "api-rep", "on_time",
    )  # fmt: skip
    assert row["bant"] == {"budget": "unknown", "authority": "unknown", "need": "unknown",
                           "timeframe": "unknown"}  # fmt: skip
    from datetime import datetime

    assert datetime.fromisoformat(row["sla_due_at"]) == cycle.first_touch_due_at
    assert row["first_touch_at"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"stage": "flying"}, "stage"),
        ({"sla_state": "late"}, "sla_state"),
        ({"owner": "a\x00b"}, "owner"),  # PostgreSQL cannot compare a NUL: it was a 500 there
    ],
)
def test_a_bad_filter_is_a_field_400(api_client, params, field):
    response = api_client.get(QUEUE, params)
    assert response.status_code == 400 and field in response.json()


def test_filters_narrow_the_queue(api_client, make_rep, make_cycle):
    a, b = make_rep("fa"), make_rep("fb")
    make_cycle(owner=a)
    make_cycle(owner=b, stage=Stage.WORKING, first_touch_at=timezone.now())
    assert [r["owner"] for r in api_client.get(QUEUE, {"owner": "fb"}).json()["results"]] == ["fb"]
    assert [r["stage"] for r in api_client.get(QUEUE, {"stage": "mql"}).json()["results"]] == [
        "mql"
    ]


def test_a_call_with_bant_is_logged_and_a_promotion_refused_then_done(
    api_client, make_rep, make_cycle
):
    rep = make_rep("dialer-rep")
    make_rep("dialer-field", pool=Pool.FIELD)
    cycle = make_cycle(owner=rep)
    url = f"{QUEUE}/{cycle.pk}"
    response = api_client.post(
        f"{url}/calls",
        {"outcome": "connected", "notes": "ヒアリング", "bant": {"need": {"status": "confirmed"}}},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["item"]["stage"] == "working"
    refused = api_client.post(f"{url}/promote", format="json")
    assert refused.status_code == 409
    assert refused.json()["missing"] == ["authority"] and refused.json()["needed"] == 1
    api_client.post(
        f"{url}/calls",
        {"outcome": "meeting", "bant": {
            "authority": {"status": "confirmed", "role": "decision_maker", "name": "山田"},
            "budget": {"status": "confirmed", "range": "500_1000"},
        }},
        format="json",
    )  # fmt: skip
    promoted = api_client.post(f"{url}/promote", format="json")
    assert promoted.status_code == 200 and promoted.json()["stage"] == "handed_over"
    assert promoted.json()["field_owner"] == "dialer-field"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"outcome": "maybe"}, "outcome"),
        ({"outcome": "connected", "bant": {"budget": {"status": "sure"}}}, "bant.budget.status"),
        (
            {"outcome": "connected", "bant": {"budget": {"status": "confirmed"}}},
            "bant.budget.range",
        ),
        (
            {"outcome": "connected", "bant": {"timeframe": {"month": "soon"}}},
            "bant.timeframe.month",
        ),
        (
            {"outcome": "connected", "bant": {"need": {"pain_points": ["nope"]}}},
            "bant.need.pain_points",
        ),
        ({"outcome": "connected", "bant": "yes"}, "bant.non_field_errors"),
    ],
)
def test_bad_call_input_is_a_field_level_400_and_writes_nothing(
    api_client, make_rep, make_cycle, body, field
):
    cycle = make_cycle(owner=make_rep("bad-api"))
    response = api_client.post(f"{QUEUE}/{cycle.pk}/calls", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    cycle.refresh_from_db()
    assert cycle.stage == Stage.MQL and not cycle.calls.exists()


def test_a_call_on_a_handed_over_lead_is_a_409(api_client, make_cycle):
    cycle = make_cycle(stage=Stage.HANDED_OVER)
    response = api_client.post(f"{QUEUE}/{cycle.pk}/calls", {"outcome": "connected"}, format="json")
    assert response.status_code == 409


def test_an_unknown_item_is_a_404(api_client):
    assert api_client.post(f"{QUEUE}/999999/promote", format="json").status_code == 404


def test_roles_see_their_own_scope(client, make_rep, make_cycle, marketing_user):
    mine, other = make_rep("own-api"), make_rep("other-api")
    make_cycle(owner=mine)
    make_cycle(owner=other)
    client.force_login(mine)
    assert [r["owner"] for r in client.get(QUEUE).json()["results"]] == ["own-api"]
    client.force_login(marketing_user)
    assert len(client.get(QUEUE).json()["results"]) == 2
    cycle = make_cycle(owner=other)
    response = client.post(
        f"{QUEUE}/{cycle.pk}/calls", {"outcome": "connected"}, content_type="application/json"
    )
    assert response.status_code == 403  # marketing reads, does not call


def test_anonymous_and_roleless_are_refused(client, no_role_user):
    assert client.get(QUEUE).status_code in (401, 403)
    client.force_login(no_role_user)
    assert client.get(QUEUE).status_code == 403
