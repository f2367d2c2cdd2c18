"""The SLA state and sweep: due soon and breached, once each, to the right people."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from handoff.models import Notification, Stage
from handoff.services.sla import BREACHED, DUE_SOON, MET, ON_TIME, sla_state, sla_sweep

pytestmark = pytest.mark.django_db
SOON = dt.timedelta(minutes=30)


def test_a_cycles_state_follows_its_clock(make_cycle):
    now = timezone.now()
    cycle = make_cycle(first_touch_due_at=now + dt.timedelta(hours=1))
    assert sla_state(cycle, now=now, soon=SOON).state == ON_TIME
    assert sla_state(cycle, now=now + dt.timedelta(minutes=40), soon=SOON).state == DUE_SOON
    late = sla_state(cycle, now=now + dt.timedelta(hours=2), soon=SOON)
    assert (late.state, late.clock) == (BREACHED, "first_touch")
    cycle.first_touch_at = now  # touched: the qualification clock runs
    assert sla_state(cycle, now=now + dt.timedelta(hours=2), soon=SOON).clock == "qualify"
    cycle.stage = Stage.SQL
    assert sla_state(cycle, now=now, soon=SOON).state == MET


def test_the_sweep_reminds_and_escalates_once_each(make_rep, make_cycle, manager_user, settings):
    settings.EMBEDDED_BACKGROUND_TASKS = False
    rep = make_rep("sla-rep")
    now = timezone.now()
    soon = make_cycle(owner=rep, first_touch_due_at=now + dt.timedelta(minutes=10))
    late = make_cycle(owner=rep, first_touch_due_at=now - dt.timedelta(minutes=10))
    make_cycle(owner=rep, first_touch_due_at=now + dt.timedelta(hours=5))  # on time
    slow = make_cycle(
        owner=rep, stage=Stage.WORKING, first_touch_at=now - dt.timedelta(days=6),
        qualify_due_at=now - dt.timedelta(hours=1),
    )  # fmt: skip
    first = sla_sweep(now=now)
    assert (first.reminded, first.escalated) == (1, 2)
    assert sla_sweep(now=now) == type(first)(0, 0)  # once each
    notes = set(Notification.objects.values_list("user__username", "kind", "cycle_id"))
    assert notes == {
        ("sla-rep", "due_soon", soon.pk),
        ("sla-rep", "breached", late.pk),
        (manager_user.username, "breached", late.pk),
        ("sla-rep", "breached", slow.pk),
        (manager_user.username, "breached", slow.pk),
    }


def test_notifications_are_mailed_once(make_rep, make_cycle, django_capture_on_commit_callbacks):
    from handoff.services.notifications import notifications_email

    rep = make_rep("mailed")
    now = timezone.now()
    make_cycle(owner=rep, first_touch_due_at=now + dt.timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        sla_sweep(now=now)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["mailed@portal.test"]
    assert notifications_email() == 0 and len(mail.outbox) == 1
