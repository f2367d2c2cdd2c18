"""Reads for the leads pages, already scoped to the acting user.

Every role may read leads today (leads.permissions.can_view_leads); callers get
PermissionDenied otherwise, so a selector is never the only check forgotten.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from leads.filters import CompanyFilter, ContactFilter
from leads.models import Activity, Company, Contact, IntentSignal
from leads.permissions import can_view_leads


def _check(actor) -> None:
    if not can_view_leads(actor):
        raise PermissionDenied


def contact_filter_for(*, actor, params: Mapping) -> ContactFilter:
    """The bound filter for the leads list; its ``.qs`` is the filtered queryset."""
    _check(actor)
    base = Contact.objects.select_related("company").order_by("-last_activity_at", "-id")
    return ContactFilter(data=params or None, queryset=base)


def contact_list_for(*, actor, params: Mapping) -> QuerySet[Contact]:
    """Contacts matching the leads-list filters, most recently active first."""
    # django-filter returns no rows for an invalid form (strict mode).
    return contact_filter_for(actor=actor, params=params).qs


def company_filter_for(*, actor, params: Mapping) -> CompanyFilter:
    _check(actor)
    base = Company.objects.annotate(contact_count=Count("contacts")).order_by(
        "-last_activity_at", "name_key", "id"
    )
    return CompanyFilter(data=params or None, queryset=base)


def contact_get_for(*, actor, contact_id: int) -> Contact:
    _check(actor)
    return get_object_or_404(Contact.objects.select_related("company"), pk=contact_id)


def company_get_for(*, actor, company_id: int) -> Company:
    _check(actor)
    return get_object_or_404(Company, pk=company_id)


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # an Activity.Kind value, or "intent"
    label: str
    detail: str
    source: str
    contact: Contact | None
    strength: int | None = None


def _activity_entry(activity: Activity) -> TimelineEntry:
    props = activity.properties if isinstance(activity.properties, dict) else {}
    detail = str(props.get("title") or props.get("url") or props.get("campaign") or "")
    return TimelineEntry(
        at=activity.occurred_at,
        kind=activity.kind,
        label=activity.get_kind_display(),
        detail=detail[:200],
        source=activity.source,
        contact=activity.contact,
    )


def _intent_entry(signal: IntentSignal) -> TimelineEntry:
    return TimelineEntry(
        at=signal.observed_at,
        kind="intent",
        label=signal.topic,
        detail="",
        source=signal.provider,
        contact=None,
        strength=signal.strength,
    )


def _merge(activities, signals, limit: int) -> list[TimelineEntry]:
    entries = [_activity_entry(a) for a in activities] + [_intent_entry(s) for s in signals]
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]


def contact_timeline(*, actor, contact: Contact, limit: int = 100) -> list[TimelineEntry]:
    """The contact's own activity and its company's intent, newest first."""
    _check(actor)
    activities = Activity.objects.filter(contact=contact).select_related("contact")[:limit]
    signals = (
        IntentSignal.objects.filter(company_id=contact.company_id)[:limit]
        if contact.company_id
        else []
    )
    return _merge(activities, signals, limit)


def company_timeline(*, actor, company: Company, limit: int = 100) -> list[TimelineEntry]:
    """Everything at the company: its contacts' activity, account-level activity, intent."""
    _check(actor)
    activities = Activity.objects.filter(company=company).select_related("contact")[:limit]
    signals = IntentSignal.objects.filter(company=company)[:limit]
    return _merge(activities, signals, limit)


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


@dataclass(frozen=True)
class DashboardFigures:
    companies: int
    contacts: int
    companies_without_contacts: int
    activities_30d: int
    intent_30d: int
    activity_by_day: list[tuple[str, int]]
    top_intent_topics: list[tuple[str, int]]


def dashboard_figures(*, actor) -> DashboardFigures:
    _check(actor)
    now = timezone.now()
    since = now - timedelta(days=30)
    from django.db.models.functions import TruncDate

    by_day = (
        Activity.objects.filter(occurred_at__gte=since)
        .annotate(day=TruncDate("occurred_at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(n=Count("id"))
        .order_by("day")
    )
    topics = (
        IntentSignal.objects.filter(observed_at__gte=since)
        .values("topic")
        .annotate(n=Count("id"))
        .order_by("-n")[:8]
    )
    return DashboardFigures(
        companies=Company.objects.count(),
        contacts=Contact.objects.count(),
        companies_without_contacts=Company.objects.filter(contacts__isnull=True).count(),
        activities_30d=Activity.objects.filter(occurred_at__gte=since).count(),
        intent_30d=IntentSignal.objects.filter(observed_at__gte=since).count(),
        activity_by_day=[(r["day"].isoformat(), r["n"]) for r in by_day],
        top_intent_topics=[(r["topic"], r["n"]) for r in topics],
    )
