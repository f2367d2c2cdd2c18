"""The demo's sales team at work: reps in their pools, the MQLs of the past months worked.

Scoring's replay (history.py) records MQL events over the activity window and handoff
takes each in (a cycle, an owner). This module then plays the reps' part through the
handoff's own services, dated as it would have happened: a first call within the SLA
for most leads (late for some), BANT answers, promotion to SQL and handover for the
qualified ones, recycling or disqualification for the rest, and the recent ones still
open in the queue, some due soon or breached. Generated, with a fixed seed, from the
demo leads and their real scores; docs/demo-data.md says so.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import OuterRef, Subquery

from config import background
from handoff.calendar import add_working_time
from handoff.models import (
    INSIDE_STAGES,
    Assignment,
    AssignmentRule,
    Cycle,
    Notification,
    Pool,
    RepProfile,
    Stage,
)
from handoff.services.calendar import calendar_of, handoff_settings
from handoff.services.calls import CallInput, call_log, cycle_promote
from handoff.services.lifecycle import cycle_transition
from portal.demo.catalog import SEED

# (username, pool, capacity)
REPS = (
    ("insidesales", Pool.INSIDE, 2),
    ("insidesales2", Pool.INSIDE, 1),
    ("insidesales3", Pool.INSIDE, 1),
    ("sales", Pool.FIELD, 1),
    ("sales2", Pool.FIELD, 1),
)
# Leads worked for longer than this are closed one way or the other.
OPEN_DAYS = 10
RECYCLE_REASONS = ("timing", "no_budget", "no_need", "not_decision_maker")
DISQUALIFY_REASONS = ("student_or_job_seeker", "competitor", "fake_contact")


def demo_reps_ensure() -> None:
    """Rep profiles for the demo's inside and field sales, and one routing rule."""
    User = get_user_model()
    users = {u.username: u for u in User.objects.filter(username__in=[r[0] for r in REPS])}
    RepProfile.objects.bulk_create(
        [
            RepProfile(user=users[name], pool=pool, capacity=capacity)
            for name, pool, capacity in REPS
            if name in users
        ],
        ignore_conflicts=True,
    )
    if "insidesales2" in users and not AssignmentRule.objects.exists():
        # 近畿の企業は山本さんへ: the manager's example of a routing rule.
        AssignmentRule.objects.create(order=1, region="kinki", assignee=users["insidesales2"])


def _delay(rng: random.Random, *, late: bool) -> timedelta:
    hours = rng.uniform(3, 20) if late else rng.uniform(0.2, 1.8)
    return timedelta(hours=hours)


def _bant(rng: random.Random, *, qualified: bool, at: datetime) -> dict:
    if qualified:
        quarter_end = (at.replace(day=1) + timedelta(days=rng.choice([60, 90, 150]))).date()
        return {
            "budget_status": "confirmed",
            "budget_range": rng.choice(["100_500", "500_1000", "1000_5000"]),
            "authority_status": "confirmed",
            "authority_role": "decision_maker",
            "need_status": "confirmed",
            "pain_points": tuple(
                rng.sample(
                    ["mkt_sales_gap", "no_visibility", "manual_reports", "low_conversion"], 2
                )
            ),
            "timeframe_status": rng.choice(["partial", "confirmed"]),
            "timeframe_kind": "quarter",
            "timeframe_month": quarter_end.replace(day=1),
        }
    return {
        "budget_status": rng.choice(["unknown", "partial"]),
        "authority_status": rng.choice(["unknown", "partial"]),
        "authority_role": rng.choice(["influencer", "user", "unknown"]),
        "need_status": rng.choice(["partial", "confirmed", "unknown"]),
        "timeframe_status": "unknown",
    }


def demo_team_at_work(*, now: datetime) -> int:
    """Work the demo's cycles as the reps would have; returns how many were worked."""
    rng = random.Random(SEED)
    row = handoff_settings()
    calendar = calendar_of(row)
    cycles = list(
        Cycle.objects.filter(stage=Stage.MQL, contact__email__endswith=".example.jp")
        .select_related("owner")
        .order_by("mql_at", "id")
    )
    # Assigned (and the owner told) when they came in, not at the moment of seeding.
    for cycle in cycles:
        cycle.assigned_at = cycle.mql_at
    Cycle.objects.bulk_update(cycles, ["assigned_at"], batch_size=500)
    came_in = Cycle.objects.filter(pk=OuterRef("cycle_id")).values("mql_at")[:1]
    Assignment.objects.filter(cycle__in=cycles).update(at=Subquery(came_in))
    Notification.objects.filter(cycle__in=cycles).update(created_at=Subquery(came_in))
    worked = 0
    with background.inline():
        for cycle in cycles:
            owner = cycle.owner
            if owner is None:
                continue  # waiting for an owner: the managers' to give
            age = now - cycle.mql_at
            if age < timedelta(days=1) and rng.random() < 0.7:
                continue  # new in the queue, not called yet
            if age < timedelta(days=5) and rng.random() < 0.2:
                continue  # slipped through: its SLA is breached
            late = rng.random() < 0.22
            first_touch = add_working_time(calendar, cycle.mql_at, _delay(rng, late=late))
            if first_touch >= now:
                continue
            qualified = rng.random() < 0.38
            with transaction.atomic():
                call_log(
                    actor=owner, cycle_id=cycle.pk, at=first_touch,
                    data=CallInput(
                        outcome=rng.choice(["connected", "connected", "voicemail", "email_sent"]),
                        notes=rng.choice([
                            "現状の課題をヒアリング。MAは導入済みだが営業との連携が弱い。",
                            "不在。メールで資料送付済み。",
                            "担当者と会話。来月の予算会議で検討予定。",
                            "決裁者同席で30分の打ち合わせ。",
                        ]),
                        **_bant(rng, qualified=qualified, at=first_touch),
                    ),
                )  # fmt: skip
            worked += 1
            if age < timedelta(days=OPEN_DAYS):
                continue  # still being worked
            decided = add_working_time(calendar, first_touch, timedelta(hours=rng.uniform(4, 30)))
            if decided >= now:
                continue
            if qualified:
                promoted = cycle_promote(actor=owner, cycle_id=cycle.pk, at=decided)
                accepted = rng.random() < 0.5 and age > timedelta(days=20)
                if promoted.stage == Stage.HANDED_OVER and accepted:
                    cycle_transition(
                        cycle_id=cycle.pk, to_stage=Stage.SQL_ACCEPTED, actor=promoted.field_owner,
                        reason_code="accepted", at=decided + timedelta(days=1),
                    )  # fmt: skip
            elif rng.random() < 0.8:
                cycle_transition(
                    cycle_id=cycle.pk, to_stage=Stage.RECYCLED, actor=owner,
                    reason_code=rng.choice(RECYCLE_REASONS), at=decided,
                )  # fmt: skip
            else:
                cycle_transition(
                    cycle_id=cycle.pk, to_stage=Stage.DISQUALIFIED, actor=owner,
                    reason_code=rng.choice(DISQUALIFY_REASONS), at=decided,
                )  # fmt: skip
    # Old notices were read long ago; what is still open stays new.
    Notification.objects.filter(
        cycle__stage__in=[s for s in Stage.values if s not in INSIDE_STAGES]
    ).update(read_at=now, emailed_at=now)
    Notification.objects.filter(emailed_at__isnull=True).update(emailed_at=now)
    return worked


def silent_mail():
    """The demo's notices are not mailed (the console would print hundreds)."""
    return _SilentMail()


class _SilentMail:
    def __enter__(self):
        self._backend = settings.EMAIL_BACKEND
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        return self

    def __exit__(self, *exc):
        settings.EMAIL_BACKEND = self._backend
        return False
