"""Deals from the CRM: idempotent on its id, the lead named three ways, the cycle moved."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from feedback.models import Opportunity
from handoff.models import Pool, Stage, Transition

pytestmark = pytest.mark.django_db
URL = "/api/v1/outcomes"


@pytest.fixture
def handed(make_cycle, make_rep):
    field = make_rep("fs1", pool=Pool.FIELD)
    return make_cycle(owner=make_rep("is1"), field_owner=field, stage=Stage.SQL_ACCEPTED)


def test_a_deal_created_then_won_moves_the_cycle_to_won(api_client, handed):
    email = handed.contact.email
    made = api_client.post(
        URL, {"crm_id": "OPP-1", "status": "open", "email": email.upper(),
              "created_on": "2026-11-02", "amount": 1200000, "crm_lead_id": "L-9"},
        format="json",
    )  # fmt: skip
    assert made.status_code == 201, made.json()
    assert made.json()["cycle_stage"] == Stage.OPPORTUNITY and made.json()["created"] is True
    won = api_client.post(
        URL, {"crm_id": "OPP-1", "status": "won", "crm_lead_id": "L-9",
              "closed_on": "2026-12-01", "amount": 1500000},
        format="json",
    )  # fmt: skip
    assert won.status_code == 200, won.json()
    body = won.json()
    assert (body["cycle_stage"], body["status"], body["amount"], body["changed"]) == (
        Stage.WON, "won", "1500000", True,
    )  # fmt: skip
    handed.refresh_from_db()
    assert handed.stage == Stage.WON and handed.closed_at is not None
    steps = list(Transition.objects.filter(cycle=handed).values_list("to_stage", flat=True))
    assert steps == [Stage.OPPORTUNITY, Stage.WON]


def test_the_same_call_twice_changes_nothing_the_second_time(api_client, handed):
    payload = {"crm_id": "OPP-2", "status": "lost", "contact_id": handed.contact_id,
               "created_on": "2026-11-02", "closed_on": "2026-11-20"}  # fmt: skip
    first = api_client.post(URL, payload, format="json")
    again = api_client.post(URL, payload, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["changed"] is False
    assert Opportunity.objects.count() == 1
    assert Transition.objects.filter(cycle=handed).count() == 1  # straight to lost


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"status": "won"}, "crm_id"),
        ({"crm_id": "X", "status": "maybe", "email": "a@b.jp"}, "status"),
        ({"crm_id": "X", "status": "open", "email": "a@b.jp", "amount": -5}, "amount"),
        ({"crm_id": "X", "status": "open", "email": "a@b.jp", "amount": "lots"}, "amount"),
        ({"crm_id": "X", "status": "open", "email": "a@b.jp", "created_on": "yesterday"}, "created_on"),
        ({"crm_id": "X", "status": "won"}, "email"),
    ],
)  # fmt: skip
def test_bad_outcomes_are_field_level_400s_and_write_nothing(api_client, handed, payload, field):
    response = api_client.post(URL, payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert not Opportunity.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"crm_id": "X", "status": "won", "email": "nobody@x.jp", "closed_on": "2026-11-01"}, "email"),
        ({"crm_id": "X", "status": "won", "contact_id": 999999, "closed_on": "2026-11-01"}, "contact_id"),
        ({"crm_id": "X", "status": "won", "crm_lead_id": "unknown", "closed_on": "2026-11-01"}, "crm_lead_id"),
    ],
)  # fmt: skip
def test_an_unknown_lead_is_a_404_naming_the_field(api_client, handed, payload, field):
    response = api_client.post(URL, payload, format="json")
    assert response.status_code == 404 and field in response.json()
    assert not Opportunity.objects.exists()


def test_a_won_deal_needs_its_date_and_a_closed_deal_does_not_reopen(api_client, handed):
    email = handed.contact.email
    no_date = api_client.post(URL, {"crm_id": "O", "status": "won", "email": email}, format="json")
    assert no_date.status_code == 400 and "closed_on" in no_date.json()
    api_client.post(
        URL, {"crm_id": "O", "status": "won", "email": email, "closed_on": "2026-11-30"},
        format="json",
    )  # fmt: skip
    reopen = api_client.post(URL, {"crm_id": "O", "status": "open", "email": email}, format="json")
    assert reopen.status_code == 400 and "status" in reopen.json()
    assert Opportunity.objects.get().status == "won"


def test_a_deal_of_another_lead_under_the_same_id_is_refused(api_client, handed, make_cycle):
    other = make_cycle()
    api_client.post(
        URL, {"crm_id": "O", "status": "open", "email": handed.contact.email}, format="json"
    )
    clash = api_client.post(
        URL, {"crm_id": "O", "status": "open", "email": other.contact.email}, format="json"
    )
    assert clash.status_code == 400 and "crm_id" in clash.json()


def test_a_deal_for_a_closed_cycle_is_kept_without_moving_it(api_client, make_cycle):
    cycle = make_cycle(stage=Stage.RECYCLED)
    response = api_client.post(
        URL, {"crm_id": "O", "status": "open", "email": cycle.contact.email}, format="json"
    )
    assert response.status_code == 201 and response.json()["cycle_stage"] == Stage.RECYCLED
    assert Opportunity.objects.get().cycle == cycle


def test_the_outcomes_api_needs_a_token_or_a_role(db, inside_sales_user, marketing_user):
    anonymous = APIClient().post(URL, {}, format="json")
    assert anonymous.status_code in (401, 403)
    for user in (inside_sales_user, marketing_user):
        client = APIClient()
        client.force_authenticate(user)
        assert client.post(URL, {}, format="json").status_code == 403


def test_field_sales_record_deals_only_for_their_handovers(db, make_cycle, make_rep, handed):
    stranger = make_rep("fs9", pool=Pool.FIELD)
    client = APIClient()
    client.force_authenticate(stranger)
    payload = {"crm_id": "O", "status": "open", "email": handed.contact.email}
    assert client.post(URL, payload, format="json").status_code == 403
    client.force_authenticate(handed.field_owner)
    assert client.post(URL, payload, format="json").status_code == 201


def test_dates_default_sensibly(api_client, handed):
    response = api_client.post(
        URL, {"crm_id": "O", "status": "open", "email": handed.contact.email}, format="json"
    )
    assert dt.date.fromisoformat(response.json()["created_on"]) <= timezone.localdate()
