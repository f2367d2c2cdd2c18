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
from feedback.services.outcomes import outcome_record
from feedback.services.verdicts import verdict_record
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
# Rejection reasons (feedback's taxonomy): the passing ones recycle, the permanent disqualify.
RECYCLE_REASONS = (
    "timing",
    "no_budget",
    "no_need",
    "not_decision_maker",
    "competitor",
    "unreachable",
)
DISQUALIFY_REASONS = ("student_job_seeker", "bad_contact_data", "company_too_small", "duplicate")
SQL_REJECT_REASONS = ("no_budget", "timing", "not_decision_maker", "competitor")
# Deals: won share and amounts (yen) for the SQLs field sales took.
WIN_RATE = 0.45
AMOUNTS = (800_000, 1_200_000, 1_800_000, 2_400_000, 3_600_000, 6_000_000)


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


def demo_team_at_work(
    *, now: datetime, since: datetime | None = None, until: datetime | None = None
) -> int:
    """Work the demo's cycles as the reps would have; returns how many were worked.

    Only the open cycles that came in within [``since``, ``until``): the seed works
    the weeks before the earlier review first, so the review finds their verdicts,
    then the weeks after. Each is worked as seen from ``now`` (an old one to its
    end, a recent one left open), with its own fixed seed, so a run is repeatable.
    """
    rng = random.Random(SEED if since is None else SEED + 1)
    row = handoff_settings()
    calendar = calendar_of(row)
    window = {}
    if since is not None:
        window["mql_at__gte"] = since
    if until is not None:
        window["mql_at__lt"] = until
    cycles = list(
        Cycle.objects.filter(stage=Stage.MQL, contact__email__endswith=".example.jp", **window)
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
            # Better-fitting leads qualify more often: what the review should find.
            fit = float(cycle.score_fit or 0)
            qualified = rng.random() < min(0.75, 0.12 + fit / 80)
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
            judged = rng.random() < (0.75 if qualified else 0.25)
            if judged:
                # The rep's verdict on the MQL and their view of its score.
                verdict_record(
                    actor=owner, cycle_id=cycle.pk, decision="accepted", at=first_touch,
                    judgement=rng.choice(["about_right", "about_right", "too_low", "too_high"])
                    if qualified else rng.choice(["too_high", "about_right", ""]),
                )  # fmt: skip
            if age < timedelta(days=OPEN_DAYS):
                continue  # still being worked
            decided = add_working_time(calendar, first_touch, timedelta(hours=rng.uniform(4, 30)))
            if decided >= now:
                continue
            if qualified:
                promoted = cycle_promote(actor=owner, cycle_id=cycle.pk, at=decided)
                if promoted.stage == Stage.HANDED_OVER and age > timedelta(days=OPEN_DAYS + 3):
                    _field_sales_work(rng, promoted, decided=decided, now=now)
            elif judged:
                # Accepted at the first call, then not qualified: back to nurture.
                cycle_transition(
                    cycle_id=cycle.pk, to_stage=Stage.RECYCLED, actor=owner,
                    reason_code="not_qualified", at=decided,
                )  # fmt: skip
            else:
                reasons = RECYCLE_REASONS if rng.random() < 0.8 else DISQUALIFY_REASONS
                verdict_record(
                    actor=owner, cycle_id=cycle.pk, decision="rejected", at=decided,
                    reason_code=rng.choice(reasons), judgement=rng.choice(["too_high", ""]),
                    note=rng.choice(["", "", "来期の予算策定後に再連絡。", "情報収集段階とのこと。"]),
                )  # fmt: skip
    # Old notices were read long ago; what is still open stays new.
    Notification.objects.filter(
        cycle__stage__in=[s for s in Stage.values if s not in INSIDE_STAGES]
    ).update(read_at=now, emailed_at=now)
    Notification.objects.filter(emailed_at__isnull=True).update(emailed_at=now)
    return worked


def _field_sales_work(rng: random.Random, cycle: Cycle, *, decided: datetime, now: datetime):
    """Field sales judge a handover within days; the deals they take are won or lost."""
    judged = decided + timedelta(days=rng.uniform(0.5, 3))
    if judged >= now:
        return
    rep = cycle.field_owner
    if rng.random() < 0.25:
        verdict_record(
            actor=rep, cycle_id=cycle.pk, decision="rejected", at=judged,
            reason_code=rng.choice(SQL_REJECT_REASONS), judgement="too_high",
        )  # fmt: skip
        return
    verdict_record(actor=rep, cycle_id=cycle.pk, decision="accepted", at=judged)
    opened = judged + timedelta(days=rng.uniform(2, 10))
    if opened >= now or rng.random() < 0.15:
        return
    local = opened.astimezone(calendar_tz()).date()
    crm_id = f"DEMO-OPP-{cycle.pk:05d}"
    outcome_record(
        actor=None, crm_id=crm_id, status="open", contact_id=cycle.contact_id,
        created_on=local, amount=rng.choice(AMOUNTS), crm_lead_id=f"DEMO-LEAD-{cycle.contact_id}",
        at=opened,
    )  # fmt: skip
    closed = opened + timedelta(days=rng.uniform(10, 40))
    if closed >= now:
        return
    fit = float(cycle.score_fit or 0)
    won = rng.random() < min(0.8, WIN_RATE * (0.6 + fit / 50))
    outcome_record(
        actor=None, crm_id=crm_id, status="won" if won else "lost",
        crm_lead_id=f"DEMO-LEAD-{cycle.contact_id}",
        closed_on=closed.astimezone(calendar_tz()).date(), at=closed,
    )  # fmt: skip


def calendar_tz():
    from zoneinfo import ZoneInfo

    return ZoneInfo(handoff_settings().time_zone)


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
