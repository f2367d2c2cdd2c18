"""The verdict buttons where reps work: the queue's rows and the lead workspace."""

from __future__ import annotations

import pytest

from feedback.models import Opportunity, Verdict
from handoff.models import Pool, Stage

pytestmark = pytest.mark.django_db


def _url(cycle) -> str:
    return f"/feedback/cycles/{cycle.pk}/verdict/"


def test_the_queue_offers_accept_and_the_reasons_to_reject(client, make_rep, make_cycle):
    rep = make_rep("is1")
    cycle = make_cycle(owner=rep)
    client.force_login(rep)
    page = client.get("/handoff/").content.decode()
    assert f'data-testid="accept-{cycle.pk}"' in page and f'id="reason-{cycle.pk}"' in page
    assert "SLA内の架電で連絡がつかない" in page


def test_one_click_from_the_queue_accepts_and_tells_the_rows_to_reload(
    client, make_rep, make_cycle
):
    rep = make_rep("is1")
    cycle = make_cycle(owner=rep)
    client.force_login(rep)
    response = client.post(
        _url(cycle), {"decision": "accepted", "from": "queue"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and response["HX-Trigger"] == "verdict-recorded"
    cycle.refresh_from_db()
    assert cycle.stage == Stage.ACCEPTED and Verdict.objects.get().decision == "accepted"


def test_a_reject_without_a_reason_is_a_400_fragment_and_changes_nothing(
    client, make_rep, make_cycle
):
    rep = make_rep("is1")
    cycle = make_cycle(owner=rep)
    client.force_login(rep)
    response = client.post(
        _url(cycle), {"decision": "rejected", "from": "queue"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    cycle.refresh_from_db()
    assert cycle.stage == Stage.MQL and not Verdict.objects.exists()


def test_the_workspace_rejects_with_reason_note_and_judgement(client, make_rep, make_cycle):
    rep = make_rep("is1")
    cycle = make_cycle(owner=rep)
    client.force_login(rep)
    page = client.get(f"/leads/{cycle.contact_id}/").content.decode()
    assert 'id="verdict-panel"' in page and 'name="judgement"' in page
    response = client.post(
        _url(cycle),
        {
            "decision": "rejected",
            "reason": "no_need",
            "note": "既に他社導入",
            "judgement": "too_high",
        },
    )
    assert response.status_code == 302 and response["Location"].endswith("#verdict-panel")
    verdict = Verdict.objects.get()
    assert (verdict.reason.code, verdict.note, verdict.judgement) == (
        "no_need", "既に他社導入", "too_high",
    )  # fmt: skip
    after = client.get(response["Location"]).content.decode()
    assert "ニーズなし" in after and 'data-testid="verdicts"' in after


def test_field_sales_accept_a_handover_from_their_list(client, make_rep, make_cycle):
    field = make_rep("fs1", pool=Pool.FIELD)
    cycle = make_cycle(owner=make_rep("is1"), field_owner=field, stage=Stage.HANDED_OVER)
    client.force_login(field)
    page = client.get("/handoff/?tab=handovers").content.decode()
    assert f'data-testid="accept-{cycle.pk}"' in page
    client.post(_url(cycle), {"decision": "accepted", "from": "queue"}, HTTP_HX_REQUEST="true")
    cycle.refresh_from_db()
    assert cycle.stage == Stage.SQL_ACCEPTED


def test_marketing_reads_verdicts_but_cannot_give_them(
    client, marketing_user, make_rep, make_cycle
):
    cycle = make_cycle(owner=make_rep("is1"))
    client.force_login(marketing_user)
    assert (
        f'data-testid="accept-{cycle.pk}"' not in client.get("/handoff/?tab=team").content.decode()
    )
    assert client.post(_url(cycle), {"decision": "accepted"}).status_code == 403
    assert not Verdict.objects.exists()


def test_a_rep_cannot_judge_another_reps_lead(client, make_rep, make_cycle):
    cycle = make_cycle(owner=make_rep("is2"))
    client.force_login(make_rep("is1"))
    assert client.post(_url(cycle), {"decision": "accepted"}).status_code == 403
    assert not Verdict.objects.exists()


def test_field_sales_cannot_judge_an_mql(client, make_rep, make_cycle):
    field = make_rep("fs1", pool=Pool.FIELD)
    cycle = make_cycle(owner=make_rep("is1"), field_owner=field)
    client.force_login(field)
    assert client.post(_url(cycle), {"decision": "accepted"}).status_code == 403


def test_anonymous_and_roleless_users_are_kept_out(client, no_role_user, make_cycle):
    cycle = make_cycle()
    assert client.post(_url(cycle), {"decision": "accepted"}).status_code == 302
    client.force_login(no_role_user)
    assert client.post(_url(cycle), {"decision": "accepted"}).status_code == 403
    assert client.get(_url(cycle)).status_code in (403, 405)


def test_a_field_rep_records_a_won_deal_on_the_workspace(client, make_rep, make_cycle):
    field = make_rep("fs1", pool=Pool.FIELD)
    cycle = make_cycle(owner=make_rep("is1"), field_owner=field, stage=Stage.SQL_ACCEPTED)
    client.force_login(field)
    response = client.post(
        f"/feedback/cycles/{cycle.pk}/outcome/",
        {"crm_id": "SF-0042", "status": "won", "amount": "3000000", "created_on": "2026-11-01",
         "closed_on": "2026-12-01"},
    )  # fmt: skip
    assert response.status_code == 302
    cycle.refresh_from_db()
    assert cycle.stage == Stage.WON and Opportunity.objects.get().amount == 3000000


def test_inside_sales_cannot_record_deals(client, make_rep, make_cycle):
    rep = make_rep("is1")
    cycle = make_cycle(owner=rep, stage=Stage.SQL_ACCEPTED)
    client.force_login(rep)
    response = client.post(
        f"/feedback/cycles/{cycle.pk}/outcome/", {"crm_id": "X", "status": "open"}
    )
    assert response.status_code == 403 and not Opportunity.objects.exists()
