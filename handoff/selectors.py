"""Reads for the handoff, scoped to the acting user: queues, a lead's cycle, notifications."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import django_filters
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Count, F, Q, QuerySet, Value, When
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.filtering import BoundedFilterSet
from handoff.models import (
    CLOSED_STAGES,
    INSIDE_STAGES,
    QUEUE_STAGES,
    Bant,
    Call,
    Cycle,
    Notification,
    Pool,
    RepProfile,
    Stage,
)
from handoff.permissions import (
    can_view_handovers,
    can_view_queue,
    can_view_team_queue,
    is_manager,
)
from handoff.services.calendar import handoff_settings
from handoff.services.sla import BREACHED, DUE_SOON, ON_TIME, SLA_LABELS, SlaState, sla_state

ANY = _("Any")


class _YesNoAny(django_filters.widgets.BooleanWidget):
    """A yes / no filter whose empty choice reads "Any" (not django-filter's "Unknown")."""

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.choices = (("", ANY), ("true", _("Yes")), ("false", _("No")))


def sla_soon() -> timedelta:
    return timedelta(minutes=handoff_settings().remind_before_minutes)


def with_priority(queryset: QuerySet[Cycle], *, now: datetime) -> QuerySet[Cycle]:
    """Ordered as a rep works them: by when each needs someone, then the highest score.

    ``attention_at`` is the earlier of the cycle's next action and the SLA due time it
    runs against (kept in the row by ``services.priority``), so an overdue call or a
    breached SLA comes first and the order is an index scan, not a sort. ``now`` is kept
    for callers that annotate relative to it.
    """
    del now
    return queryset.order_by(
        F("attention_at").asc(nulls_last=True),
        # PostgreSQL's default for DESC (nulls first), which the queue's indexes follow:
        # SQLite cannot build an index with NULLS LAST. A cycle has no score only when
        # no definition was active.
        F("score_total").desc(),
        "id",
    )


class QueueFilter(BoundedFilterSet):
    stage = django_filters.ChoiceFilter(
        label=_("Stage"),
        choices=[(s, Stage(s).label) for s in Stage.values if s in QUEUE_STAGES],
        empty_label=ANY,
    )  # fmt: skip
    sla = django_filters.ChoiceFilter(
        label=_("SLA"),
        choices=[(k, SLA_LABELS[k]) for k in (BREACHED, DUE_SOON, ON_TIME)],
        empty_label=ANY,
        method="filter_sla",
    )
    band = django_filters.ChoiceFilter(
        label=_("Band at MQL"),
        field_name="score_band",
        choices=[("hot", _("Hot (MQL)")), ("warm", _("Warm")), ("cold", _("Cold"))],
        empty_label=ANY,
    )
    owner = django_filters.ModelChoiceFilter(
        label=_("Owner"),
        queryset=RepProfile.objects.none(),
        method="filter_owner",
        empty_label=ANY,
    )
    origin = django_filters.ChoiceFilter(
        label=_("Source"), choices=Cycle.Origin.choices, empty_label=ANY
    )
    unassigned = django_filters.BooleanFilter(
        label=_("Waiting for an owner"), field_name="owner", lookup_expr="isnull",
        widget=_YesNoAny,
    )  # fmt: skip

    class Meta:
        model = Cycle
        fields = ["stage", "band", "origin"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.filters["owner"].queryset = RepProfile.objects.filter(pool=Pool.INSIDE).select_related(
            "user"
        )
        self.filters["owner"].field.label_from_instance = lambda rep: rep.user.display_name

    def filter_owner(self, queryset, name, value):
        return queryset.filter(owner_id=value.user_id) if value else queryset

    def filter_sla(self, queryset, name, value):
        now, soon = timezone.now(), sla_soon()
        return sla_bucket(queryset, value, now=now, soon=soon)


def queue_scope(*, actor, team: bool) -> QuerySet[Cycle]:
    """The queue's cycles: the actor's own, or the team's for managers and marketing."""
    if not can_view_queue(actor):
        raise PermissionDenied
    base = (
        Cycle.objects.filter(stage__in=sorted(QUEUE_STAGES))
        .select_related("contact", "company", "owner", "field_owner", "bant")
        .prefetch_related("bant__pain_points")  # the BANT chips name them
    )
    if team and can_view_team_queue(actor):
        return base
    return base.filter(owner=actor)


def queue_filter_for(*, actor, params: Mapping, team: bool) -> QueueFilter:
    return QueueFilter(data=params or None, queryset=queue_scope(actor=actor, team=team))


@dataclass(frozen=True, slots=True)
class StageCount:
    stage: str
    label: str
    count: int


@dataclass(frozen=True, slots=True)
class QueueOverview:
    stages: list[StageCount]
    sla: dict[str, int]
    total: int
    unassigned: int


def _sla_q(bucket: str, *, now: datetime, soon: timedelta) -> Q:
    """The rows ``sla_state`` puts in ``bucket`` at ``now``, as a condition on ``sla_due_at``.

    An inside-stage cycle with no due time shows as on time, so it counts as on time;
    an SQL has no due time and is in none of the three.
    """
    if bucket == BREACHED:
        return Q(sla_due_at__lt=now)
    if bucket == DUE_SOON:
        return Q(sla_due_at__gte=now, sla_due_at__lte=now + soon)
    return Q(sla_due_at__gt=now + soon) | Q(
        sla_due_at__isnull=True, stage__in=sorted(INSIDE_STAGES)
    )


def queue_overview(queryset: QuerySet[Cycle], *, now: datetime) -> QueueOverview:
    """The queue's counts per stage and per SLA state, and in all: one aggregate.

    ``queryset`` is a queue's scope (``queue_scope``: the team's, or one owner's). Every
    column read here is in ``handoff_queue_counts_idx``, so on PostgreSQL the aggregate is
    an index-only scan; a count over a column outside it would read the wide rows again.
    """
    soon = sla_soon()
    stages = [s for s in Stage.values if s in QUEUE_STAGES]
    row = queryset.order_by().aggregate(
        total=Count("id"),
        unassigned=Count("id", filter=Q(owner__isnull=True)),
        **{
            b: Count("id", filter=_sla_q(b, now=now, soon=soon))
            for b in (BREACHED, DUE_SOON, ON_TIME)
        },
        **{f"stage_{s}": Count("id", filter=Q(stage=s)) for s in stages},
    )
    return QueueOverview(
        stages=[
            StageCount(stage=s, label=str(Stage(s).label), count=row[f"stage_{s}"]) for s in stages
        ],
        sla={BREACHED: row["breached"], DUE_SOON: row["due_soon"], ON_TIME: row["on_time"]},
        total=row["total"],
        unassigned=row["unassigned"],
    )


def sla_bucket(queryset: QuerySet[Cycle], bucket: str, *, now: datetime, soon: timedelta):
    """Only the cycles whose SLA is breached, due soon or on time (by ``sla_due_at``)."""
    if bucket in (BREACHED, DUE_SOON, ON_TIME):
        return queryset.filter(_sla_q(bucket, now=now, soon=soon))
    return queryset


def sla_states(cycles, *, now: datetime) -> dict[int, SlaState]:
    soon = sla_soon()
    return {c.pk: sla_state(c, now=now, soon=soon) for c in cycles}


def handovers_for(*, actor) -> QuerySet[Cycle]:
    """What was handed over to a field sales rep (managers: to everyone), newest first."""
    if not can_view_handovers(actor):
        raise PermissionDenied
    base = (
        Cycle.objects.filter(field_owner__isnull=False)
        .select_related("contact", "company", "owner", "field_owner", "bant")
        .prefetch_related("bant__pain_points")
    )
    if not is_manager(actor):
        base = base.filter(field_owner=actor)
    return base.order_by(
        Case(When(stage__in=sorted(CLOSED_STAGES), then=Value(1)), default=Value(0)),
        F("handed_over_at").desc(nulls_last=True),
        "-id",
    )


def cycle_of_contact(*, contact_id: int) -> Cycle | None:
    """The contact's open cycle, else its latest."""
    cycles = Cycle.objects.filter(contact_id=contact_id).select_related(
        "owner", "field_owner", "version", "bant"
    )
    return (
        cycles.exclude(stage__in=sorted(CLOSED_STAGES)).first()
        or cycles.order_by("-number").first()
    )


def cycle_of_account(*, company_id: int) -> Cycle | None:
    cycles = Cycle.objects.filter(company_id=company_id, contact__isnull=True).select_related(
        "owner", "field_owner", "version", "bant"
    )
    return (
        cycles.exclude(stage__in=sorted(CLOSED_STAGES)).first()
        or cycles.order_by("-number").first()
    )


def cycle_get(*, cycle_id: int) -> Cycle:
    return get_object_or_404(
        Cycle.objects.select_related("contact", "company", "owner", "field_owner", "bant"),
        pk=cycle_id,
    )


def cycle_calls(*, cycle: Cycle, limit: int = 20) -> list[Call]:
    return (
        list(
            Call.objects.filter(
                cycle__contact_id=cycle.contact_id, cycle__company_id=cycle.company_id
            ).select_related("rep", "cycle")[:limit]
        )
        if cycle.contact_id
        else list(cycle.calls.select_related("rep")[:limit])
    )


def bant_of(cycle: Cycle) -> Bant:
    try:
        return cycle.bant
    except Bant.DoesNotExist:
        return Bant(cycle=cycle)


def unread_count(*, actor) -> int:
    if not getattr(actor, "is_authenticated", False):
        return 0
    return Notification.objects.filter(user=actor, read_at__isnull=True).count()


def notifications_for(*, actor, limit: int = 50) -> list[Notification]:
    return list(
        Notification.objects.filter(user=actor)
        .select_related("cycle__contact", "cycle__company")
        .order_by("-created_at", "-id")[:limit]
    )


def reps(*, pool: str | None = None) -> QuerySet[RepProfile]:
    queryset = RepProfile.objects.select_related("user").order_by("pool", "user__username")
    return queryset.filter(pool=pool) if pool else queryset


@dataclass(frozen=True, slots=True)
class QueueSummary:
    """What Home shows of the handoff for one person (None: nothing of theirs to show)."""

    scope: str  # "mine", "team" or "handovers"
    open: int
    breached: int
    due_soon: int
    unassigned: int = 0


def queue_summary(*, actor, now: datetime) -> QueueSummary | None:
    """A handful of counts for Home: a rep's queue, the team's, or a field rep's handovers."""
    if can_view_team_queue(actor) or can_view_queue(actor):
        team = bool(can_view_team_queue(actor))
        overview = queue_overview(queue_scope(actor=actor, team=team), now=now)
        return QueueSummary(
            "team" if team else "mine", overview.total, overview.sla[BREACHED],
            overview.sla[DUE_SOON], unassigned=overview.unassigned if team else 0,
        )  # fmt: skip
    if can_view_handovers(actor):
        handed = handovers_for(actor=actor).filter(stage__in=[Stage.HANDED_OVER])
        return QueueSummary("handovers", handed.count(), 0, 0)
    return None
