"""Assignment: company owner, routing rules, weighted round robin, absences, nobody in."""

from __future__ import annotations

import pytest
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from accounts.roles import Role
from handoff.models import (
    Absence,
    AccountOwner,
    Assignment,
    AssignmentRule,
    Cycle,
    Notification,
    Pool,
    Stage,
)
from handoff.services.assignment import cycles_assign, cycles_reassign, quota_round_robin
from tests.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 10), min_size=1, max_size=8), st.integers(1, 300))
def test_round_robin_counts_stay_within_one_of_the_weighted_share(weights, n):
    reps = {i + 1: w for i, w in enumerate(weights)}
    picks = quota_round_robin(reps, {}, n)
    total = sum(weights)
    for prefix in range(1, n + 1):
        counts = {r: 0 for r in reps}
        for rep in picks[:prefix]:
            counts[rep] += 1
        for rep, weight in reps.items():
            assert abs(counts[rep] - prefix * weight / total) <= 1


def test_n_mqls_over_weighted_reps_in_several_batches(make_rep, make_cycle):
    a, b, c = (
        make_rep("rr-a", capacity=1),
        make_rep("rr-b", capacity=2),
        make_rep("rr-c", capacity=3),
    )
    cycles = [make_cycle() for _ in range(61)]
    for start in range(0, 61, 7):  # batches, as drains arrive: the sequence continues
        cycles_assign(cycles=cycles[start : start + 7])
    counts = {u.pk: Cycle.objects.filter(owner=u).count() for u in (a, b, c)}
    for user, weight in ((a, 1), (b, 2), (c, 3)):
        assert abs(counts[user.pk] - 61 * weight / 6) <= 1
    assert Assignment.objects.filter(method="round_robin").count() == 61
    assert Notification.objects.filter(kind="assigned").count() == 61


def test_the_company_owner_comes_first_then_rules_then_round_robin(make_rep, make_cycle):
    owner, routed, other = make_rep("own"), make_rep("routed"), make_rep("other")
    owned = CompanyFactory(prefecture="27")
    AccountOwner.objects.create(company=owned, user=owner)
    osaka = CompanyFactory(prefecture="27")
    AssignmentRule.objects.create(order=1, prefecture="27", assignee=routed)
    tokyo = CompanyFactory(prefecture="13", employee_count=5000)
    AssignmentRule.objects.create(order=2, min_employees=1000, assignee=other)
    small = CompanyFactory(prefecture="13", employee_count=10)
    cycles = [make_cycle(contact=ContactFactory(company=co)) for co in (owned, osaka, tokyo, small)]
    result = cycles_assign(cycles=cycles)
    assert result[cycles[0].pk] == owner.pk  # the owner, though a rule matches too
    assert result[cycles[1].pk] == routed.pk
    assert result[cycles[2].pk] == other.pk
    assert result[cycles[3].pk] in {owner.pk, routed.pk, other.pk}
    methods = dict(Assignment.objects.values_list("cycle_id", "method"))
    assert [methods[c.pk] for c in cycles] == ["owner", "rule", "rule", "round_robin"]


def test_reps_away_today_or_inactive_are_skipped(make_rep, make_cycle):
    away, off, present = make_rep("away"), make_rep("off"), make_rep("here")
    Absence.objects.create(user=away, day=timezone.localdate())
    off.rep_profile.is_active = False
    off.rep_profile.save()
    routed_to_away = CompanyFactory(prefecture="01")
    AssignmentRule.objects.create(prefecture="01", assignee=away)
    cycles = [make_cycle(contact=ContactFactory(company=routed_to_away)), make_cycle()]
    assert set(cycles_assign(cycles=cycles).values()) == {present.pk}


def test_with_nobody_in_a_lead_waits_and_the_managers_are_told(make_cycle, manager_user):
    cycle = make_cycle()
    assert cycles_assign(cycles=[cycle]) == {cycle.pk: None}
    cycle.refresh_from_db()
    assert cycle.owner is None and cycle.unassigned_notified_at is not None
    note = Notification.objects.get(user=manager_user)
    assert (note.kind, note.cycle) == ("unassigned", cycle)


def test_a_manager_reassigns_many_at_once_and_it_is_recorded(make_rep, make_cycle, manager_user):
    a, b = make_rep("ra"), make_rep("rb")
    cycles = [make_cycle(owner=a) for _ in range(3)]
    assert cycles_reassign(actor=manager_user, cycle_ids=[c.pk for c in cycles], user_id=b.pk) == 3
    assert Cycle.objects.filter(owner=b).count() == 3
    assert Assignment.objects.filter(method="manager", by=manager_user).count() == 3


def test_reassigning_is_for_managers_and_to_reps_of_the_pool(make_rep, make_cycle, marketing_user):
    from django.core.exceptions import PermissionDenied, ValidationError

    rep, field = make_rep("r1"), make_rep("f1", pool=Pool.FIELD)
    cycle = make_cycle(owner=rep)
    with pytest.raises(PermissionDenied):
        cycles_reassign(actor=rep, cycle_ids=[cycle.pk], user_id=rep.pk)
    with pytest.raises(PermissionDenied):
        cycles_reassign(actor=marketing_user, cycle_ids=[cycle.pk], user_id=rep.pk)
    manager = make_rep("m1", role=Role.SALES_MANAGER)
    with pytest.raises(ValidationError):
        cycles_reassign(actor=manager, cycle_ids=[cycle.pk], user_id=field.pk)  # inside stage
    handed = make_cycle(stage=Stage.HANDED_OVER, owner=rep, field_owner=field)
    assert cycles_reassign(actor=manager, cycle_ids=[handed.pk], user_id=field.pk) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_assigners_at_once_stay_fair_and_give_no_lead_two_owners(make_rep, make_cycle):
    """Two drains assigning at the same moment continue one round-robin sequence."""
    import threading

    from django.db import connection

    reps = [make_rep(f"cc{i}", capacity=1) for i in range(3)]
    cycles = [make_cycle() for _ in range(40)]
    halves = [cycles[::2], cycles[1::2]]
    barrier = threading.Barrier(2)
    errors = []

    def run(part):
        try:
            barrier.wait(timeout=10)
            cycles_assign(cycles=[Cycle.objects.get(pk=c.pk) for c in part])
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(h,)) for h in halves]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors
    counts = [Cycle.objects.filter(owner=r).count() for r in reps]
    assert sum(counts) == 40 and max(counts) - min(counts) <= 1
    assert Assignment.objects.count() == 40
