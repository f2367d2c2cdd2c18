"""Home: leads' figures beside scoring's bands and the versions awaiting the user."""

from datetime import UTC, date, datetime, timedelta

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext

from handoff import selectors as handoff_selectors
from leads import selectors
from leads.permissions import can_import_leads, can_view_leads
from portal.figures import home_figures
from scoring import selectors as scoring_selectors


def _daily_series(by_day: list[tuple[str, int]], *, first: date, today: date):
    """Every day from ``first`` on, with 0 where nothing happened, so the line has no gaps."""
    counts = dict(by_day)
    last = max([today, *(date.fromisoformat(d) for d in counts)])
    days = [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]
    return days, [counts.get(d, 0) for d in days]


def home(request):
    """The dashboard; an anonymous visitor is sent to the login page."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not can_view_leads(request.user):
        raise PermissionDenied
    cached = home_figures()  # computed at most once a minute (portal.figures)
    figures = cached.leads
    now = timezone.now()
    days, counts = _daily_series(
        figures.activity_by_day,
        first=timezone.localdate(now - selectors.DASHBOARD_WINDOW),
        today=timezone.localdate(now),
    )
    today = timezone.localdate(now).isoformat()
    context = {
        "figures": figures,
        "bands": cached.bands,
        "figures_at": datetime.fromtimestamp(cached.computed_at, tz=UTC),
        "awaiting": scoring_selectors.versions_awaiting(actor=request.user),
        "queue": handoff_selectors.queue_summary(actor=request.user, now=now),
        "can_import": can_import_leads(request.user),
        "chart": {
            "days": days,
            "counts": counts,
            "today_index": days.index(today) if today in days else len(days),
            "so_far": gettext("so far"),
            "topics": [t for t, _ in figures.top_intent_topics],
            "topic_counts": [n for _, n in figures.top_intent_topics],
        },
    }
    return render(request, "portal/home.html", context)
