"""Reads for the leads pages, already scoped to the acting user.

Every role may read leads today (leads.permissions.can_view_leads); callers get
PermissionDenied otherwise, so a selector is never the only check forgotten.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from itertools import groupby, pairwise

from django.core.exceptions import PermissionDenied
from django.db.models import Count, DateField, Q, QuerySet, Value
from django.db.models.functions import TruncDate
from django.shortcuts import get_object_or_404
from django.utils import timezone

from leads.filters import CompanyFilter, ContactFilter
from leads.models import Activity, Company, Contact, IntentSignal
from leads.permissions import can_view_leads


def _check(actor) -> None:
    if not can_view_leads(actor):
        raise PermissionDenied


def contacts_for(*, actor) -> QuerySet[Contact]:
    """Every contact the actor may see, with its company, most recently active first."""
    _check(actor)
    return Contact.objects.select_related("company").order_by("-last_activity_at", "-id")


def companies_for(*, actor) -> QuerySet[Company]:
    """Every company the actor may see, most recently active first."""
    _check(actor)
    return Company.objects.order_by("-last_activity_at", "name_key", "id")


def contact_filter_for(*, actor, params: Mapping) -> ContactFilter:
    """The bound filter for a contacts list over leads' own fields; ``.qs`` filters."""
    return ContactFilter(data=params or None, queryset=contacts_for(actor=actor))


def company_filter_for(*, actor, params: Mapping) -> CompanyFilter:
    return CompanyFilter(data=params or None, queryset=companies_for(actor=actor))


def contact_get_for(*, actor, contact_id: int) -> Contact:
    _check(actor)
    return get_object_or_404(Contact.objects.select_related("company"), pk=contact_id)


def company_get_for(*, actor, company_id: int) -> Company:
    _check(actor)
    return get_object_or_404(Company, pk=company_id)


# --- Timelines ------------------------------------------------------------------------
#
# Latest first, a page of TIMELINE_PAGE events at a time (activity and intent merged),
# grouped by the viewer's day; repeated page views of one person on one day fold into
# one line with a count. The cursor is the last shown event's (time, source, id), so
# a page costs two index range reads whatever the history's length.

TIMELINE_PAGE = 100
_ACTIVITY, _INTENT = 1, 0  # the order of the two sources at one instant
FOLDED_KINDS = frozenset({Activity.Kind.PAGE_VIEW, Activity.Kind.EMAIL_OPEN})


@dataclass(frozen=True)
class TimelineLine:
    at: datetime  # the latest event of the line
    kind: str  # an Activity.Kind value, or "intent"
    label: str
    detail: str
    source: str
    contact: Contact | None
    strength: int | None = None
    count: int = 1  # folded repeats
    first_at: datetime | None = None  # the earliest folded event
    details: tuple[str, ...] = ()  # what the folded events were about (a few)


@dataclass(frozen=True)
class TimelineDay:
    day: date
    lines: list[TimelineLine]


@dataclass(frozen=True)
class TimelinePage:
    days: list[TimelineDay]
    events: int
    older: str | None  # the cursor of the next (older) page


class BadCursor(ValueError):
    """A ``before`` cursor that this module did not write."""


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _cursor_text(at: datetime, source: int, pk: int) -> str:
    # Whole microseconds: a float timestamp would lose the last digit.
    return f"{(at - _EPOCH) // _MICROSECOND}.{source}.{pk}"


def _cursor_read(text: str | None) -> tuple[datetime, int, int] | None:
    if not text:
        return None
    try:
        micros, source, pk = text.split(".")
        at = _EPOCH + int(micros) * _MICROSECOND
        source_n, pk_n = int(source), int(pk)
    except (ValueError, OverflowError):
        raise BadCursor(text) from None
    if source_n not in (_ACTIVITY, _INTENT) or not 0 <= pk_n < 2**63:
        raise BadCursor(text)
    return at, source_n, pk_n


def _before(cursor, source: int, time_field: str) -> Q:
    """Rows of ``source`` after the cursor in (time desc, source desc, id desc) order."""
    if cursor is None:
        return Q()
    at, c_source, c_pk = cursor
    earlier = Q(**{f"{time_field}__lt": at})
    if source < c_source:
        return earlier | Q(**{time_field: at})
    if source > c_source:
        return earlier
    return earlier | Q(**{time_field: at, "id__lt": c_pk})


def _activity_detail(props) -> str:
    props = props if isinstance(props, dict) else {}
    return str(props.get("title") or props.get("url") or props.get("campaign") or "")[:200]


def _events(activities, signals, limit: int) -> list[tuple[tuple, TimelineLine]]:
    events = []
    for a in activities:
        line = TimelineLine(
            at=a.occurred_at,
            kind=a.kind,
            label=a.get_kind_display(),
            detail=_activity_detail(a.properties),
            source=a.source,
            contact=a.contact,
        )
        events.append(((a.occurred_at, _ACTIVITY, a.pk), line))
    for s in signals:
        line = TimelineLine(
            at=s.observed_at,
            kind="intent",
            label=s.topic,
            detail="",
            source=s.provider,
            contact=None,
            strength=s.strength,
        )
        events.append(((s.observed_at, _INTENT, s.pk), line))
    events.sort(key=lambda e: e[0], reverse=True)
    return events[:limit]


def _fold(lines: list[TimelineLine]) -> list[TimelineLine]:
    """Consecutive repeats (page views, opens) of one person and source into one line."""
    folded: list[TimelineLine] = []
    for line in lines:
        last = folded[-1] if folded else None
        if (
            last is not None
            and line.kind in FOLDED_KINDS
            and last.kind == line.kind
            and last.contact == line.contact
            and last.source == line.source
        ):
            details = last.details or ((last.detail,) if last.detail else ())
            if line.detail and line.detail not in details and len(details) < 3:
                details = (*details, line.detail)
            folded[-1] = replace(
                last, count=last.count + 1, first_at=line.at, details=details, detail=""
            )
        else:
            folded.append(line)
    return folded


def _timeline(activities, signals, *, before: str | None, limit: int) -> TimelinePage:
    cursor = _cursor_read(before)
    activities = activities.filter(_before(cursor, _ACTIVITY, "occurred_at")).order_by(
        "-occurred_at", "-id"
    )[: limit + 1]
    signals = signals.filter(_before(cursor, _INTENT, "observed_at")).order_by(
        "-observed_at", "-id"
    )[: limit + 1]
    events = _events(activities, signals, limit + 1)
    more = len(events) > limit
    events = events[:limit]
    zone = timezone.get_current_timezone()
    days: list[TimelineDay] = []
    for day, group in groupby(events, key=lambda e: e[0][0].astimezone(zone).date()):
        days.append(TimelineDay(day=day, lines=_fold([line for _key, line in group])))
    older = _cursor_text(*events[-1][0]) if more and events else None
    return TimelinePage(days=days, events=len(events), older=older)


def contact_timeline(
    *, actor, contact: Contact, before: str | None = None, limit: int = TIMELINE_PAGE
) -> TimelinePage:
    """The contact's own activity and its company's intent, a page at a time, newest first.

    Raises ``BadCursor`` for a ``before`` this module did not write.
    """
    _check(actor)
    activities = Activity.objects.filter(contact=contact).select_related("contact")
    signals = IntentSignal.objects.filter(company_id=contact.company_id or 0)
    return _timeline(activities, signals, before=before, limit=limit)


def company_timeline(
    *, actor, company: Company, before: str | None = None, limit: int = TIMELINE_PAGE
) -> TimelinePage:
    """Everything at the company: its contacts' activity, account-level activity, intent."""
    _check(actor)
    activities = Activity.objects.filter(company=company).select_related("contact")
    signals = IntentSignal.objects.filter(company=company)
    return _timeline(activities, signals, before=before, limit=limit)


@dataclass(frozen=True)
class ActivitySummary:
    kind: str
    label: str
    count: int


def activity_summary(
    *, contact: Contact | None = None, company: Company | None = None, days: int = 90
) -> list[ActivitySummary]:
    """Counts by kind over the last ``days`` days, for the lead page's chart."""
    since = timezone.now() - timedelta(days=days)
    scope = Q(contact=contact) if contact is not None else Q(company=company)
    rows = (
        Activity.objects.filter(scope, occurred_at__gte=since)
        .values("kind")
        .annotate(n=Count("id"))
        .order_by("-n")
    )
    labels = dict(Activity.Kind.choices)
    return [
        ActivitySummary(kind=r["kind"], label=str(labels.get(r["kind"], r["kind"])), count=r["n"])
        for r in rows
    ]


# The dashboard's "last 30 days": the 30 × 24 hours before now.
DASHBOARD_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class DashboardFigures:
    companies: int
    contacts: int
    companies_without_contacts: int
    activities_30d: int
    intent_30d: int
    activity_by_day: list[tuple[str, int]]
    top_intent_topics: list[tuple[str, int]]


def _local_day_starts(*, since: datetime, now: datetime, tz) -> list[tuple[date, datetime]]:
    """(local date, its first instant) for each day from ``since``'s through tomorrow's.

    The first day starts at ``since`` itself: rows before it are filtered out anyway.
    Tomorrow's start is there to close today.
    """
    first = since.astimezone(tz).date()
    last = now.astimezone(tz).date() + timedelta(days=1)
    starts = [(first, since)]
    day = first + timedelta(days=1)
    while day <= last:
        # fold=0 is the earlier instant of an ambiguous midnight and the transition itself
        # for a skipped one: either way, the first instant whose local date is ``day``.
        starts.append((day, datetime.combine(day, time.min, tzinfo=tz)))
        day += timedelta(days=1)
    return starts


def _activity_by_day(*, since: datetime, now: datetime) -> list[tuple[str, int]]:
    """Activities per local day since ``since``, as (ISO date, count); days with none left out.

    One statement: a COUNT per local day over the (kind, occurred_at) index, glued with UNION
    ALL, so each day is a range read of the index and no row is converted. Truncating every row
    with TruncDate instead costs a time-zone conversion per row (a Python function per row on
    SQLite: ~0.1 s for 23,000 rows). Rows dated after today (a source's clock skew) are rare and
    keep the per-row truncation.
    """
    tz = timezone.get_current_timezone()
    starts = _local_day_starts(since=since, now=now, tz=tz)
    # Every writer validates the kind (the API serializer, leads.services.ingest), so naming
    # all kinds selects every row, and lets the database use the index by kind and time.
    in_window = Activity.objects.filter(kind__in=Activity.Kind.values).order_by()
    days = [
        in_window.filter(occurred_at__gte=start, occurred_at__lt=next_start)
        .annotate(day=Value(day, output_field=DateField()))
        .values("day")
        .annotate(n=Count("id"))
        for (day, start), (_next_day, next_start) in pairwise(starts)
    ]
    later = (
        in_window.filter(occurred_at__gte=starts[-1][1])
        .annotate(day=TruncDate("occurred_at", tzinfo=tz))
        .values("day")
        .annotate(n=Count("id"))
    )
    rows = days[0].union(*days[1:], later, all=True).order_by("day")
    return [(r["day"].isoformat(), r["n"]) for r in rows if r["n"]]


def dashboard_figures(*, actor) -> DashboardFigures:
    """The home page's counts and charts: a fixed handful of aggregate queries, whatever the size.

    Counts cover ``DASHBOARD_WINDOW`` before now; the per-day figures bucket by the current
    time zone's days, so the first day is partial.
    """
    _check(actor)
    return dashboard_figures_compute()


def dashboard_figures_compute() -> DashboardFigures:
    """``dashboard_figures`` for whoever may see them (portal.figures caches it)."""
    now = timezone.now()
    since = now - DASHBOARD_WINDOW
    activity_by_day = _activity_by_day(since=since, now=now)
    topics = (
        IntentSignal.objects.filter(observed_at__gte=since)
        .order_by()
        .values("topic")
        .annotate(n=Count("id"))
        .order_by("-n", "topic")[:8]
    )
    return DashboardFigures(
        companies=Company.objects.count(),
        contacts=Contact.objects.count(),
        companies_without_contacts=Company.objects.filter(contacts__isnull=True).count(),
        # The per-day buckets cover every row since ``since``: their sum is the count.
        activities_30d=sum(n for _, n in activity_by_day),
        intent_30d=IntentSignal.objects.filter(observed_at__gte=since).count(),
        activity_by_day=activity_by_day,
        top_intent_topics=[(r["topic"], r["n"]) for r in topics],
    )
