"""A proposal (the threshold review's) becomes a draft through scoring's own service."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from scoring.models import AuditEntry, DefinitionVersion
from scoring.services import definitions
from tests.scoring.test_definitions import _ensure_active

pytestmark = pytest.mark.django_db


def test_a_proposal_is_a_draft_with_the_changes_and_its_note(manager_user):
    active = _ensure_active()
    key = active.spec["behaviour"][0]["key"]
    old = active.spec["behaviour"][0]
    version = definitions.draft_propose(
        based_on=active,
        changes={"points": {key: old["points"] * 2}, "thresholds": {"hot": 75, "warm": 40}},
        actor=manager_user,
        note="review of November",
    )
    assert version.status == DefinitionVersion.Status.DRAFT
    assert version.proposal_note == version.change_note == "review of November"
    rule = version.spec["behaviour"][0]
    assert rule["points"] == old["points"] * 2
    if old.get("cap") is not None:
        assert rule["cap"] == old["cap"] * 2
    assert version.spec["thresholds"]["hot"] == 75
    actions = set(version.audit_entries.values_list("action", flat=True))
    assert actions == {AuditEntry.Action.CREATED, AuditEntry.Action.EDITED}


def test_a_manager_may_submit_a_proposal_but_not_a_plain_draft(manager_user, marketing_user):
    active = _ensure_active()
    proposal = definitions.draft_propose(
        based_on=active, changes={"thresholds": {"hot": 70}}, actor=None, note="scheduled"
    )
    submitted = definitions.draft_submit(actor=manager_user, version=proposal)
    assert submitted.status == DefinitionVersion.Status.AWAITING
    plain = definitions.draft_create(actor=marketing_user, based_on=active)
    plain.change_note = "x"
    plain.save()
    with pytest.raises(PermissionDenied):
        definitions.draft_submit(actor=manager_user, version=plain)


def test_a_proposal_naming_an_unknown_rule_is_refused(manager_user):
    with pytest.raises(ValidationError):
        definitions.draft_propose(
            based_on=_ensure_active(), changes={"points": {"nope": 3}}, actor=manager_user, note="x"
        )


def test_field_sales_cannot_propose(sales_user):
    with pytest.raises(PermissionDenied):
        definitions.draft_propose(based_on=_ensure_active(), changes={}, actor=sales_user, note="x")


def test_the_draft_page_links_the_evidence_its_note_names(client, marketing_user):
    active = _ensure_active()
    version = definitions.draft_propose(
        based_on=active,
        changes={"thresholds": {"hot": 70}},
        actor=None,
        note="Threshold review #7 <b>bold</b>\n根拠：/feedback/reviews/7/",
    )
    client.force_login(marketing_user)
    page = client.get(f"/scoring/versions/{version.pk}/").content.decode()
    assert '根拠：<a href="/feedback/reviews/7/">/feedback/reviews/7/</a>' in page
    assert "#7 &lt;b&gt;bold&lt;/b&gt;<br>" in page
