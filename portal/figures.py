"""Home's figures, computed at most once a minute per time zone and served from the cache.

Counting a month of activity per day reads every row of the month (1.5 s at 5,000,000
activities on PostgreSQL), and the counts beside it read every lead and company: too much
for every visit to Home. The figures are kept in Django's cache (Redis in production, so
every web process shares them) with the moment they were computed. A visit serves what is
there; once it is older than ``HOME_FIGURES_SECONDS`` the first visit after that sends one
refresh to a worker (on the embedded default, the background thread) and keeps serving the
previous figures until it lands, so no visit waits for the count except the very first.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from config import background
from leads import selectors as leads_selectors
from scoring import selectors as scoring_selectors

_KEY = "portal:home-figures:v1:{zone}"


@dataclass(frozen=True, slots=True)
class HomeFigures:
    leads: leads_selectors.DashboardFigures
    bands: scoring_selectors.BandFigures
    computed_at: float  # time.time()
    zone: str


def _compute(zone: str) -> HomeFigures:
    with timezone.override(zone):
        figures = leads_selectors.dashboard_figures_compute()
        bands = scoring_selectors.band_figures()
    entry = HomeFigures(figures, bands, time.time(), zone)
    # Kept well past its freshness, so a slow refresh never leaves Home without figures.
    cache.set(_KEY.format(zone=zone), entry, timeout=max(600, 20 * settings.HOME_FIGURES_SECONDS))
    return entry


def home_figures_refresh(*, zone: str) -> HomeFigures:
    """Compute and keep the figures for ``zone`` (the refresh task's work)."""
    try:
        return _compute(zone)
    finally:
        cache.delete(_KEY.format(zone=zone) + ":refreshing")


def home_figures() -> HomeFigures:
    """The figures for the current time zone's days: fresh enough, and never a wait but once."""
    zone = timezone.get_current_timezone_name()
    if settings.HOME_FIGURES_SECONDS == 0:  # recount on every visit (the test suite)
        return _compute(zone)
    entry = cache.get(_KEY.format(zone=zone))
    if entry is None:
        return _compute(zone)
    stale = time.time() - entry.computed_at > settings.HOME_FIGURES_SECONDS
    # One refresh at a time: the first stale visit claims it, the others serve what is there.
    if stale and cache.add(_KEY.format(zone=zone) + ":refreshing", 1, timeout=120):
        from portal.tasks import home_figures_refresh as task

        background.send(task, zone)
        # Run inline (tests, EMBEDDED_BACKGROUND_TASKS off), it has landed already.
        return cache.get(_KEY.format(zone=zone)) or entry
    return entry


def home_figures_if_counted() -> HomeFigures | None:
    """The figures if they are in the cache (fresh or not), else None: never counts."""
    if settings.HOME_FIGURES_SECONDS == 0:
        return None
    return cache.get(_KEY.format(zone=timezone.get_current_timezone_name()))
