"""The definition workflow: who drafts, approves and activates; each denial; the audit trail.

The starter definition (v1, installed by migration 0002) is active when a test
begins, except after a transactional test flushed it: those recreate what they
need themselves (pytest-django runs them after the others).
"""

from __future__ import annotations

import copy
import threading
import time

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction

from accounts.roles import Role
from scoring.models import Approval, AuditEntry, DefinitionVersion, LeadScore, RescoreJob
from scoring.services.definitions import (
    ActivationConflict,
    departments_of,
    draft_create,
    draft_submit,
    draft_update,
    version_decide,
    version_withdraw,
)
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

Status = DefinitionVersion.Status
Action = AuditEntry.Action
MARKETING, SALES = Approval.Department.MARKETING, Approval.Department.SALES

NOT_DRAFTERS = ["inside_sales_user", "sales_user", "manager_user", "admin_user", "no_role_user"]


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """The role fixtures hash a password each; the default hasher is slow on purpose."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _starter() -> DefinitionVersion:
    return DefinitionVersion.objects.get(number=1, status=Status.ACTIVE)


def _edited_spec(spec: dict, *, hot: float = 70, pricing_points: float = 8) -> dict:
    spec = copy.deepcopy(spec)
    spec["thresholds"]["hot"] = hot
    pricing = next(r for r in spec["behaviour"] if r["key"] == "pricing_page")
    pricing["points"] = pricing_points
    return spec


def _submitted(actor, *, note: str = "Raise hot to 70: too many early MQLs.") -> DefinitionVersion:
    draft = draft_create(actor=actor, based_on=_starter())
    draft = draft_update(
        actor=actor,
        version=draft,
        spec=_edited_spec(draft.spec),
        title="Stricter hot",
        change_note=note,
    )
    return draft_submit(actor=actor, version=draft)


def _actions(version: DefinitionVersion) -> list[str]:
    return list(version.audit_entries.order_by("at", "id").values_list("action", flat=True))


# --- The happy path ----------------------------------------------------------------


def test_a_draft_becomes_active_once_marketing_and_sales_approve(
    marketing_user, manager_user, django_capture_on_commit_callbacks
):
    contact = ContactFactory()
    v1 = _starter()

    draft = draft_create(actor=marketing_user, based_on=v1)
    assert (draft.number, draft.status, draft.based_on) == (2, Status.DRAFT, v1)
    assert draft.spec == v1.spec and draft.created_by == marketing_user
    first_title = draft.title

    draft = draft_update(
        actor=marketing_user,
        version=draft,
        spec=_edited_spec(draft.spec),
        title="Stricter hot",
        change_note="Raise hot to 70: too many early MQLs.",
    )
    edit = draft.audit_entries.get(action=Action.EDITED)
    assert edit.actor == marketing_user and edit.at is not None
    changes = {c["path"]: (c["before"], c["after"]) for c in edit.detail["changes"]}
    assert changes == {
        "change_note": ("", "Raise hot to 70: too many early MQLs."),
        "title": (first_title, "Stricter hot"),
        "thresholds.hot": (60, 70),
        "behaviour[pricing_page].points": (5, 8),
    }

    draft = draft_submit(actor=marketing_user, version=draft)
    assert (draft.status, draft.review_round) == (Status.AWAITING, 1)
    assert draft.submitted_at is not None

    draft = version_decide(
        actor=marketing_user, version=draft, department=MARKETING, approve=True, comment="OK"
    )
    assert draft.status == Status.AWAITING  # sales has not approved yet

    with django_capture_on_commit_callbacks(execute=True):
        draft = version_decide(
            actor=manager_user, version=draft, department=SALES, approve=True, comment="Agreed"
        )

    draft.refresh_from_db()
    v1.refresh_from_db()
    assert (draft.status, v1.status) == (Status.ACTIVE, Status.RETIRED)
    assert draft.activated_at is not None and v1.retired_at is not None
    assert list(DefinitionVersion.objects.filter(status=Status.ACTIVE)) == [draft]
    assert _actions(draft) == [
        Action.CREATED,
        Action.EDITED,
        Action.SUBMITTED,
        Action.APPROVED,
        Action.APPROVED,
        Action.ACTIVATED,
        Action.RESCORED,
    ]
    approvals = draft.audit_entries.filter(action=Action.APPROVED).order_by("id")
    assert [(a.actor, a.detail["department"], a.detail["comment"]) for a in approvals] == [
        (marketing_user, MARKETING, "OK"),
        (manager_user, SALES, "Agreed"),
    ]
    retired = v1.audit_entries.get(action=Action.RETIRED)
    assert (retired.actor, retired.detail["replaced_by"]) == (manager_user, 2)

    # Activation started a full rescore, and its chunks ran once the approval committed.
    job = RescoreJob.objects.get(version=draft)
    assert (job.status, job.kind, job.created_by) == (
        RescoreJob.Status.DONE,
        RescoreJob.Kind.FULL,
        manager_user,
    )
    assert LeadScore.objects.get(contact=contact).version == draft


def test_a_refusal_returns_the_draft_and_old_approvals_do_not_count_again(
    marketing_user, manager_user
):
    version = _submitted(marketing_user)
    version_decide(
        actor=marketing_user, version=version, department=MARKETING, approve=True, comment="OK"
    )
    version = version_decide(
        actor=manager_user, version=version, department=SALES, approve=False, comment="Too strict"
    )
    assert version.status == Status.DRAFT
    refused = version.audit_entries.get(action=Action.REFUSED)
    assert (refused.actor, refused.detail) == (
        manager_user,
        {"department": SALES, "comment": "Too strict", "round": 1},
    )

    version = draft_update(
        actor=marketing_user,
        version=version,
        spec=_edited_spec(version.spec, hot=65),
        title=version.title,
        change_note="Hot at 65 after sales' review.",
    )
    version = draft_submit(actor=marketing_user, version=version)
    assert version.review_round == 2

    # Marketing's approval was of round 1: sales' approval alone does not activate.
    version = version_decide(
        actor=manager_user, version=version, department=SALES, approve=True, comment="Fine now"
    )
    assert version.status == Status.AWAITING
    assert _starter().number == 1

    version = version_decide(
        actor=marketing_user, version=version, department=MARKETING, approve=True, comment="OK"
    )
    assert version.status == Status.ACTIVE
    assert version.approvals.filter(review_round=2).count() == 2


def test_withdrawing_returns_an_awaiting_version_to_draft(marketing_user):
    version = version_withdraw(actor=marketing_user, version=_submitted(marketing_user))
    assert version.status == Status.DRAFT
    assert _actions(version)[-1] == Action.WITHDRAWN


# --- Denials -----------------------------------------------------------------------


@pytest.mark.parametrize("who", NOT_DRAFTERS)
def test_only_marketing_may_draft_edit_submit_or_withdraw(request, who, marketing_user):
    actor = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        draft_create(actor=actor, based_on=_starter())

    draft = draft_create(actor=marketing_user, based_on=_starter())
    with pytest.raises(PermissionDenied):
        draft_update(
            actor=actor,
            version=draft,
            spec=_edited_spec(draft.spec),
            title="Mine",
            change_note="Changed by someone else",
        )
    draft = draft_update(
        actor=marketing_user,
        version=draft,
        spec=draft.spec,
        title=draft.title,
        change_note="Ready",
    )
    with pytest.raises(PermissionDenied):
        draft_submit(actor=actor, version=draft)
    awaiting = draft_submit(actor=marketing_user, version=draft)
    with pytest.raises(PermissionDenied):
        version_withdraw(actor=actor, version=awaiting)

    assert DefinitionVersion.objects.count() == 2
    assert not AuditEntry.objects.filter(actor=actor).exists()
    awaiting.refresh_from_db()
    assert (awaiting.status, awaiting.change_note) == (Status.AWAITING, "Ready")


@pytest.mark.parametrize(
    ("who", "department"),
    [
        ("manager_user", MARKETING),
        ("marketing_user", SALES),
        ("sales_user", SALES),
        ("sales_user", MARKETING),
        ("inside_sales_user", SALES),
        ("inside_sales_user", MARKETING),
        ("admin_user", SALES),
        ("admin_user", MARKETING),
        ("no_role_user", SALES),
        ("no_role_user", MARKETING),
        ("marketing_user", "legal"),
    ],
)
def test_nobody_decides_for_a_department_they_do_not_belong_to(
    request, who, department, marketing_user
):
    actor = request.getfixturevalue(who)
    version = _submitted(marketing_user)
    for approve in (True, False):
        with pytest.raises(PermissionDenied):
            version_decide(
                actor=actor, version=version, department=department, approve=approve, comment="x"
            )
    assert not version.approvals.exists()
    version.refresh_from_db()
    assert version.status == Status.AWAITING


def test_the_roles_decide_for_their_own_department(
    marketing_user, manager_user, sales_user, no_role_user
):
    assert departments_of(marketing_user) == [MARKETING]
    assert departments_of(manager_user) == [SALES]
    assert departments_of(sales_user) == departments_of(no_role_user) == []


@pytest.mark.parametrize("comment", ["", "   \n"])
def test_a_decision_needs_a_comment(marketing_user, manager_user, comment):
    version = _submitted(marketing_user)
    for actor, department in ((marketing_user, MARKETING), (manager_user, SALES)):
        for approve in (True, False):
            with pytest.raises(ValidationError) as caught:
                version_decide(
                    actor=actor,
                    version=version,
                    department=department,
                    approve=approve,
                    comment=comment,
                )
            assert "comment" in caught.value.message_dict
    assert not version.approvals.exists()
    assert _actions(version)[-1] == Action.SUBMITTED


def test_a_department_decides_once_per_round(marketing_user, manager_user):
    version = _submitted(marketing_user)
    version_decide(
        actor=marketing_user, version=version, department=MARKETING, approve=True, comment="OK"
    )
    for approve in (True, False):
        with pytest.raises(ValidationError):
            version_decide(
                actor=marketing_user,
                version=version,
                department=MARKETING,
                approve=approve,
                comment="Again",
            )
    assert version.approvals.count() == 1
    version.refresh_from_db()
    assert version.status == Status.AWAITING


def test_one_person_holding_both_roles_cannot_sign_for_both(marketing_user, manager_user):
    marketing_user.groups.add(Group.objects.get(name=Role.SALES_MANAGER.value))
    marketing_user.__dict__.pop("_role_cache", None)
    version = _submitted(marketing_user)
    version_decide(
        actor=marketing_user, version=version, department=MARKETING, approve=True, comment="OK"
    )
    with pytest.raises(ValidationError):
        version_decide(
            actor=marketing_user, version=version, department=SALES, approve=True, comment="OK"
        )
    version.refresh_from_db()
    assert version.status == Status.AWAITING
    version_decide(
        actor=manager_user, version=version, department=SALES, approve=True, comment="Agreed"
    )
    version.refresh_from_db()
    assert version.status == Status.ACTIVE


def test_submitting_needs_a_change_note(marketing_user):
    draft = draft_create(actor=marketing_user, based_on=_starter())
    with pytest.raises(ValidationError) as caught:
        draft_submit(actor=marketing_user, version=draft)
    assert "change_note" in caught.value.message_dict
    draft.refresh_from_db()
    assert (draft.status, draft.review_round) == (Status.DRAFT, 0)


def test_only_a_draft_can_be_edited_or_submitted(marketing_user, manager_user):
    awaiting = _submitted(marketing_user)
    for version in (awaiting, _starter()):
        with pytest.raises(ValidationError):
            draft_update(
                actor=marketing_user,
                version=version,
                spec=_edited_spec(version.spec, hot=90),
                title="Sneaky",
                change_note="After submission",
            )
        with pytest.raises(ValidationError):
            draft_submit(actor=marketing_user, version=version)
    awaiting.refresh_from_db()
    assert (awaiting.title, awaiting.spec["thresholds"]["hot"]) == ("Stricter hot", 70)
    assert _starter().spec["thresholds"]["hot"] == 60


def test_only_an_awaiting_version_can_be_decided_or_withdrawn(marketing_user, manager_user):
    draft = draft_create(actor=marketing_user, based_on=_starter())
    for version in (draft, _starter()):
        with pytest.raises(ValidationError):
            version_decide(
                actor=manager_user, version=version, department=SALES, approve=True, comment="x"
            )
        with pytest.raises(ValidationError):
            version_withdraw(actor=marketing_user, version=version)
    assert not Approval.objects.exists()


def test_an_invalid_spec_is_refused_naming_the_rule(marketing_user):
    draft = draft_create(actor=marketing_user, based_on=_starter())
    spec = copy.deepcopy(draft.spec)
    spec["behaviour"][0]["points"] = "lots"
    with pytest.raises(ValidationError) as caught:
        draft_update(actor=marketing_user, version=draft, spec=spec, title="Bad", change_note="Bad")
    message = caught.value.message_dict["spec"][0]
    assert "behaviour[0]" in message and "pricing_page" in message

    spec = _edited_spec(draft.spec, hot=10)  # below warm (30)
    with pytest.raises(ValidationError) as caught:
        draft_update(actor=marketing_user, version=draft, spec=spec, title="Bad", change_note="Bad")
    assert "thresholds" in caught.value.message_dict["spec"][0]

    draft.refresh_from_db()
    assert draft.spec == _starter().spec
    assert _actions(draft) == [Action.CREATED]


def test_an_edit_that_changes_nothing_is_not_audited(marketing_user):
    draft = draft_create(actor=marketing_user, based_on=_starter())
    draft_update(
        actor=marketing_user,
        version=draft,
        spec=draft.spec,
        title=draft.title,
        change_note=draft.change_note,
    )
    assert _actions(draft) == [Action.CREATED]


# --- One active version ------------------------------------------------------------


def _ensure_active() -> DefinitionVersion:
    """The active version, recreated from the starter's spec if a flush removed it."""
    from scoring.engine import starter_definition
    from scoring.spec import spec_from_definition

    active = DefinitionVersion.objects.filter(status=Status.ACTIVE).first()
    if active is not None:
        return active
    return DefinitionVersion.objects.create(
        number=1,
        title="Starter",
        spec=spec_from_definition(starter_definition()),
        status=Status.ACTIVE,
    )


def test_the_database_refuses_a_second_active_version():
    active = _ensure_active()
    with pytest.raises(IntegrityError), transaction.atomic():
        DefinitionVersion.objects.create(
            number=active.number + 100, title="Second", spec=active.spec, status=Status.ACTIVE
        )
    assert DefinitionVersion.objects.filter(status=Status.ACTIVE).count() == 1


@pytest.fixture
def _role_groups(transactional_db) -> None:
    """The role groups, which a data migration made and an earlier flush may have removed."""
    for role in Role:
        Group.objects.get_or_create(name=role.value)


def _wait_for_lock_waiters(count: int, *, timeout: float = 10.0) -> None:
    """Block until ``count`` other sessions of this database wait on a row lock."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while True:
            # Inside a transaction PostgreSQL keeps one snapshot of the activity
            # view unless asked to take a fresh one.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0] >= count:
                return
            if time.monotonic() > deadline:
                pytest.fail(f"{count} sessions did not reach the activation lock in {timeout} s")
            time.sleep(0.01)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_final_approvals_at_once_activate_exactly_one(_role_groups, manager_user):
    current = _ensure_active()
    rivals = []
    for n in (1, 2):
        version = DefinitionVersion.objects.create(
            number=current.number + n,
            title=f"Rival {n}",
            change_note="Rival",
            spec=current.spec,
            status=Status.AWAITING,
            review_round=1,
        )
        Approval.objects.create(
            version=version,
            review_round=1,
            department=MARKETING,
            decision=Approval.Decision.APPROVED,
            comment="OK",
        )
        rivals.append(version)
    departments_of(manager_user)  # fill the role cache before the threads share the user

    barrier = threading.Barrier(len(rivals))
    outcomes: dict[int, object] = {}

    def approve(version: DefinitionVersion) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes[version.pk] = version_decide(
                actor=manager_user, version=version, department=SALES, approve=True, comment="Go"
            )
        except BaseException as exc:  # reported by the assertions below
            outcomes[version.pk] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(v,)) for v in rivals]
    # Hold the active version's row lock until both activations wait for it, so
    # both have read the old state before either commits: a real race, every run.
    with transaction.atomic():
        DefinitionVersion.objects.select_for_update().get(pk=current.pk)
        for thread in threads:
            thread.start()
        _wait_for_lock_waiters(len(rivals))
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)

    won = [pk for pk, result in outcomes.items() if isinstance(result, DefinitionVersion)]
    lost = [pk for pk, result in outcomes.items() if isinstance(result, ActivationConflict)]
    assert len(won) == len(lost) == 1, outcomes
    assert list(DefinitionVersion.objects.filter(status=Status.ACTIVE)) == [
        DefinitionVersion.objects.get(pk=won[0])
    ]
    loser = DefinitionVersion.objects.get(pk=lost[0])
    assert loser.status == Status.AWAITING and loser.activated_at is None
    # The loser's approval was rolled back with its transaction: sales may approve again.
    assert list(loser.approvals.values_list("department", flat=True)) == [MARKETING]
    assert not loser.audit_entries.exists()
    current.refresh_from_db()
    assert current.status == Status.RETIRED
    assert RescoreJob.objects.filter(version_id=won[0]).count() == 1
    assert not RescoreJob.objects.filter(version_id=lost[0]).exists()
