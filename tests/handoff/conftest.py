"""Handoff fixtures: reps in their pools, cycles at any stage."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.roles import Role
from handoff.models import Bant, Cycle, Pool, RepProfile, Stage
from handoff.services.priority import cycles_refresh_priority
from tests.factories import ContactFactory


@pytest.fixture
def make_rep(db, django_user_model):
    made = []

    def make(username: str, *, pool: str = Pool.INSIDE, capacity: int = 1, role=None):
        role = role or (Role.INSIDE_SALES if pool == Pool.INSIDE else Role.SALES)
        user = django_user_model.objects.create_user(
            username=username, password="pw-" + username, email=f"{username}@portal.test"
        )
        user.groups.add(Group.objects.get_or_create(name=role.value)[0])
        RepProfile.objects.create(user=user, pool=pool, capacity=capacity)
        made.append(user)
        return user

    return make


@pytest.fixture
def make_cycle(db):
    def make(*, contact=None, stage: str = Stage.MQL, owner=None, field_owner=None, **extra):
        contact = contact or ContactFactory()
        now = timezone.now()
        cycle = Cycle.objects.create(
            contact=contact,
            company_id=contact.company_id,
            stage=stage,
            mql_at=extra.pop("mql_at", now),
            owner=owner,
            field_owner=field_owner,
            score_total=extra.pop("score_total", 70),
            score_band="hot",
            first_touch_due_at=extra.pop("first_touch_due_at", now + dt.timedelta(hours=2)),
            qualify_due_at=extra.pop("qualify_due_at", now + dt.timedelta(days=7)),
            **extra,
        )
        Bant.objects.create(cycle=cycle)
        cycles_refresh_priority(cycle_ids=[cycle.pk])
        cycle.refresh_from_db()
        return cycle

    return make
