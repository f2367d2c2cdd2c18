"""The demo's score history: scoring replayed over the past weeks, as if it had run then.

Without it, every demo lead would have become hot at the moment of the first
rescore, and Home's "new MQLs in the last 7 days" would count them all. The leads
that are hot today, or past midway from warm to hot, are scored at the end of each working day of the
activity window (every week further back, every day in the last two weeks),
so their band changes and MQL moments are spread over the weeks they happened in.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from leads.models import Contact
from portal.demo.catalog import ACTIVITY_DAYS, DEMO_DOMAIN_SUFFIX
from scoring.models import DefinitionVersion
from scoring.services.jobs import active_version, definition_of, scores_replay
from scoring.services.rescore import Subjects, contact_scores_compute

JST = ZoneInfo("Asia/Tokyo")
DAILY_DAYS = 14
EARLIER_STEP_DAYS = 7
# The earlier threshold review's version is active from this many days ago.
REVIEW_DAYS_AGO = 45


def history_moments(now: datetime) -> list[datetime]:
    """18:00 JST of the days replayed, oldest first, all before ``now``."""
    today = now.astimezone(JST).date()
    days = list(range(ACTIVITY_DAYS, DAILY_DAYS, -EARLIER_STEP_DAYS)) + list(
        range(DAILY_DAYS, 0, -1)
    )
    moments = [datetime.combine(today - timedelta(days=d), time(18), tzinfo=JST) for d in days]
    return [m for m in moments if m < now]


def review_cutoff(now: datetime) -> datetime:
    """18:00 JST ``REVIEW_DAYS_AGO`` days back: when the earlier review's version went live.

    Far enough back that the effect report has a month after it to measure, and late
    enough that the history before it holds the hundred verdicts the review needs.
    """
    day = now.astimezone(JST).date() - timedelta(days=REVIEW_DAYS_AGO)
    return datetime.combine(day, time(18), tzinfo=JST)


def demo_history_replay(
    *,
    now: datetime,
    contact_ids: list[int],
    since: datetime | None = None,
    until: datetime | None = None,
    version: DefinitionVersion | None = None,
) -> int:
    """Replay scoring for the demo contacts warm or hot now; returns scores stored.

    At the moments in [``since``, ``until``), under ``version`` (the active one when
    None): the seed replays the weeks before the earlier review under the version it
    reviewed, and the weeks after under the version it proposed.
    """
    moments = [
        m
        for m in history_moments(now)
        if (since is None or m >= since) and (until is None or m < until)
    ]
    version = version or active_version()
    if version is None or not contact_ids or not moments:
        return 0
    definition = definition_of(version)
    ids = sorted(contact_ids)
    thresholds = definition.thresholds
    midway = (thresholds.warm + thresholds.hot) / 2
    engaged = []
    size = settings.SCORING_CHUNK_SIZE
    for i in range(0, len(ids), size):
        scores = contact_scores_compute(
            definition=definition, subjects=Subjects(ids=tuple(ids[i : i + size])), at=now
        )
        # Hot now, or well on the way: the leads whose MQL moments and moves matter.
        engaged += [pk for pk, s in scores.items() if s.band == "hot" or s.total >= midway]
    return scores_replay(version=version, contact_ids=engaged, moments=moments)


def demo_contact_ids() -> list[int]:
    return list(
        Contact.objects.filter(email__endswith=DEMO_DOMAIN_SUFFIX).values_list("id", flat=True)
    )
