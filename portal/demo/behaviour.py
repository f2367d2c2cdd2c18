"""What people and companies did: activities from UCI sessions and campaigns, intent.

Pure functions from a spec and ``now`` to (kind, aware time, source, properties)
tuples; seed.py turns them into rows.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from leads.models import Activity
from portal.demo.catalog import (
    ACTIVITY_DAYS,
    ADMIN_PAGES,
    CASE_STUDIES,
    CHANNELS,
    CONVERSIONS,
    EMAIL_CAMPAIGNS,
    EVENTS,
    INFO_PAGES,
    INTENT_BY_INDUSTRY,
    INTENT_DAYS,
    INTENT_TOPICS,
    JST,
    PRODUCT_PAGES,
    SOURCE_MA,
    SOURCE_SFA,
    SOURCE_WEB,
    WEBINARS,
    WHITEPAPERS,
    seeded_rng,
)
from portal.demo.companies import CompanySpec
from portal.demo.datasets import BankRow, Datasets, Session
from portal.demo.people import ContactSpec

Event = tuple[str, datetime, str, dict]  # kind, occurred_at (aware), source, properties
_WEEKDAY_HOURS = (range(8, 21), (2, 5, 9, 10, 9, 6, 8, 10, 10, 9, 7, 4, 2))
_WEEKEND_HOURS = (range(9, 24), (2, 4, 6, 6, 5, 5, 5, 5, 5, 6, 7, 8, 8, 6, 3))
_SESSIONS_BY_ENGAGEMENT = {
    "cold": (0, 0, 1, 1, 2),
    "warm": (2, 3, 4, 5),
    "hot": tuple(range(4, 11)),
}
_OPEN_RATE = {"cold": 0.12, "warm": 0.35, "hot": 0.6}
_WEBINAR_RATE = {"cold": 0.02, "warm": 0.12, "hot": 0.35}
_EVENT_RATE = {"cold": 0.02, "warm": 0.05, "hot": 0.12}


@dataclass(frozen=True)
class SessionPools:
    """Row numbers into Datasets.sessions: all of them, and those ending in a purchase."""

    every: range
    converting: list[int]
    browsing: list[int]

    @classmethod
    def of(cls, sessions: list[Session]) -> SessionPools:
        converting = [i for i, s in enumerate(sessions) if s.has_revenue]
        browsing = [i for i, s in enumerate(sessions) if not s.has_revenue]
        return cls(range(len(sessions)), converting, browsing)


def _at(rng: random.Random, day: date, *, weekend: bool) -> datetime:
    """A moment on ``day`` in Japanese office hours (evenings on weekends)."""
    hours, weights = _WEEKEND_HOURS if weekend else _WEEKDAY_HOURS
    hour = rng.choices(hours, weights)[0]
    return _jst(day, hour, rng.randrange(60), rng.randrange(60))


def _jst(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=JST)


def _event(kind: str, at: datetime, source: str, **properties) -> Event:
    return (kind, at, source, properties)


def _weekday_before(day: date) -> date:
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def _session_start(rng: random.Random, now: datetime, *, weekend: bool) -> datetime:
    today = now.astimezone(JST).date()
    for _ in range(8):
        day = today - timedelta(days=rng.randrange(ACTIVITY_DAYS))
        if (day.weekday() >= 5) == weekend:
            start = _at(rng, day, weekend=weekend)
            if start < now - timedelta(hours=4):  # room for the session's pages
                return start
    day = today - timedelta(days=1 + rng.randrange(ACTIVITY_DAYS - 1))
    return _at(rng, day, weekend=day.weekday() >= 5)


def _session_events(
    rng: random.Random, sessions: list[Session], row: int, now: datetime, *, extra: dict
) -> list[Event]:
    """One UCI session as page views, each page type's count scaled to a B2B visit."""
    session = sessions[row]
    counts = {
        "admin": min(session.administrative, 4),
        "info": min(session.informational, 3),
        "product": min(math.ceil(session.product / 5), 6),
    }
    if not any(counts.values()):
        counts["admin"] = 1
    seconds = {
        "admin": session.administrative_seconds / max(session.administrative, 1),
        "info": session.informational_seconds / max(session.informational, 1),
        "product": session.product_seconds / max(session.product, 1),
    }
    order = [kind for kind, n in counts.items() for _ in range(n)]
    rng.shuffle(order)
    if "admin" in order:  # a visit with navigation pages lands on the top page
        order.remove("admin")
        order.insert(0, "admin")
    source, medium = CHANNELS[(session.traffic_type - 1) % len(CHANNELS)]
    at = _session_start(rng, now, weekend=session.is_weekend)
    events: list[Event] = []
    pages = {"admin": ADMIN_PAGES, "info": INFO_PAGES, "product": PRODUCT_PAGES}
    for i, kind in enumerate(order):
        url, title = ADMIN_PAGES[0] if i == 0 and kind == "admin" else rng.choice(pages[kind])
        props = {"url": url, "title": title, "utm_source": source, "utm_medium": medium}
        events.append((Activity.Kind.PAGE_VIEW, at, SOURCE_WEB, props | extra | {"uci_row": row}))
        at += timedelta(seconds=max(5, min(1800, seconds[kind] * rng.uniform(0.5, 1.5))))
    if session.has_revenue:
        kind, _, url, title = rng.choices(CONVERSIONS, [c[1] for c in CONVERSIONS])[0]
        props = {"url": url, "title": title, "utm_source": source, "utm_medium": medium}
        events.append((kind, at, SOURCE_MA, props | extra | {"uci_row": row}))
    return [e for e in events if e[1] < now]


def _pick_sessions(rng: random.Random, pools: SessionPools, engagement: str) -> list[int]:
    n = rng.choice(_SESSIONS_BY_ENGAGEMENT[engagement])
    if engagement == "cold":
        return [rng.choice(pools.browsing) for _ in range(n)]
    if engagement == "hot":  # engaged people convert more often
        return [
            rng.choice(pools.converting if rng.random() < 0.15 else pools.every) for _ in range(n)
        ]
    return [rng.choice(pools.every) for _ in range(n)]


def _days_ago(now: datetime, days: int) -> date:
    return now.astimezone(JST).date() - timedelta(days=days)


def contact_events(
    spec: ContactSpec, datasets: Datasets, pools: SessionPools, now: datetime
) -> list[Event]:
    """What one contact did over the last ACTIVITY_DAYS days, oldest first."""
    rng = seeded_rng("activity", spec.email)
    events: list[Event] = []
    for row in _pick_sessions(rng, pools, spec.engagement):
        events += _session_events(rng, datasets.sessions, row, now, extra={})
    events += _campaign_events(rng, spec, rng.choice(datasets.bank), now)
    events += _content_events(rng, spec.engagement, now)
    events += _webinar_and_event_visits(rng, spec.engagement, now)
    demo_requests = [e[1] for e in events if e[0] == Activity.Kind.DEMO_REQUEST]
    if demo_requests and rng.random() < 0.3:
        at = min(demo_requests) + timedelta(days=1, hours=2)
        events.append(
            _event(
                Activity.Kind.TRIAL_SIGNUP, at, SOURCE_MA, url="/trial", title="無料トライアル申込"
            )
        )
    if spec.engagement != "cold" and rng.random() < 0.04:
        at = _at(rng, _days_ago(now, rng.randint(1, 60)), weekend=False)
        events.append(
            _event(Activity.Kind.CHAT, at, SOURCE_WEB, url="/pricing", title="チャットでのご質問")
        )
    return sorted((e for e in events if e[1] < now), key=lambda e: e[1])


def _campaign_events(
    rng: random.Random, spec: ContactSpec, bank: BankRow, now: datetime
) -> list[Event]:
    """Outbound e-mail and calls, shaped by one UCI bank-marketing row.

    Its number of contacts in the campaign (plus earlier ones) sets how many of
    our sends reach this person; a success in the previous campaign (poutcome)
    becomes a meeting, and y=yes makes the person open mail.
    """
    n_sends = min(len(EMAIL_CAMPAIGNS), 1 + bank.campaign + bank.previous)
    sends = sorted(rng.sample(range(len(EMAIL_CAMPAIGNS)), n_sends))
    unsubscribes_at = rng.choice(sends) if spec.is_unsubscribed else None
    open_rate = max(_OPEN_RATE[spec.engagement], 0.7 if bank.is_success else 0)
    click_rate = 0.45 if spec.engagement == "hot" else 0.25
    events: list[Event] = []
    for i in sends:
        days, name, slug, url, title = EMAIL_CAMPAIGNS[i]
        day = _weekday_before(_days_ago(now, days))
        sent = _jst(day, 10)
        props = {
            "campaign": name.format(m=day.month),
            "utm_source": "newsletter",
            "utm_medium": "email",
            "utm_campaign": f"{day:%Y%m}-{slug}",
        }
        if rng.random() < open_rate:
            opened = sent + timedelta(minutes=min(72 * 60, rng.expovariate(1 / 300)))
            events.append(_event(Activity.Kind.EMAIL_OPEN, opened, SOURCE_MA, **props))
            if rng.random() < click_rate:
                clicked = opened + timedelta(minutes=rng.randint(1, 10))
                events.append(
                    _event(
                        Activity.Kind.EMAIL_CLICK, clicked, SOURCE_MA, **props, url=url, title=title
                    )
                )
        if i == unsubscribes_at:
            left = sent + timedelta(hours=rng.randint(1, 48))
            events.append(_event(Activity.Kind.EMAIL_UNSUBSCRIBE, left, SOURCE_MA, **props))
            break  # no mail after that
    if bank.poutcome == "success" or (spec.engagement == "hot" and bank.is_success):
        day = _weekday_before(_days_ago(now, rng.randint(1, 60)))
        at = _jst(day, rng.choice((10, 11, 13, 14, 15, 16)), rng.choice((0, 30)))
        events.append(
            _event(
                Activity.Kind.MEETING,
                at,
                SOURCE_SFA,
                title="初回商談（オンライン）",
                campaign="アウトバウンドコール",
            )
        )
    return events


def _content_events(rng: random.Random, engagement: str, now: datetime) -> list[Event]:
    if engagement == "hot":
        downloads = rng.randint(1, 3)
    else:
        downloads = int(rng.random() < (0.35 if engagement == "warm" else 0.05))
    events = []
    for url, title in rng.sample(WHITEPAPERS, downloads):
        at = _at(rng, _days_ago(now, rng.randint(1, ACTIVITY_DAYS - 1)), weekend=False)
        events.append(
            _event(
                Activity.Kind.WHITEPAPER_DOWNLOAD,
                at,
                SOURCE_MA,
                url=url,
                title=title,
                campaign="ホワイトペーパー",
            )
        )
    if rng.random() < {"hot": 0.4, "warm": 0.1, "cold": 0.0}[engagement]:
        url, title = rng.choice(CASE_STUDIES)
        at = _at(rng, _days_ago(now, rng.randint(1, ACTIVITY_DAYS - 1)), weekend=False)
        events.append(
            _event(Activity.Kind.CASE_STUDY_DOWNLOAD, at, SOURCE_MA, url=url, title=title)
        )
    return events


def _webinar_and_event_visits(rng: random.Random, engagement: str, now: datetime) -> list[Event]:
    events = []
    for days, title, url in WEBINARS:
        if rng.random() >= _WEBINAR_RATE[engagement]:
            continue
        day = _weekday_before(_days_ago(now, days))
        props = {"url": url, "title": title, "campaign": f"ウェビナー：{title}"}
        registered = _at(rng, day - timedelta(days=rng.randint(1, 20)), weekend=False)
        events.append(_event(Activity.Kind.WEBINAR_REGISTRATION, registered, SOURCE_MA, **props))
        start = _jst(day, 14, rng.randint(0, 9))
        if rng.random() < 0.7:  # about 70% of registrants attend
            minutes = rng.randint(15, 60)
            events.append(
                _event(Activity.Kind.WEBINAR_ATTENDANCE, start, SOURCE_MA, **props, minutes=minutes)
            )
        elif rng.random() < 0.4:  # some of the others watch the recording
            watched = start + timedelta(days=rng.randint(1, 10), hours=rng.randint(0, 5))
            props["title"] = f"{title}（アーカイブ）"
            events.append(_event(Activity.Kind.VIDEO_VIEW, watched, SOURCE_MA, **props))
    for days, name in EVENTS:
        if rng.random() < _EVENT_RATE[engagement]:
            day = _weekday_before(_days_ago(now, days))
            at = _jst(day, rng.randint(10, 16), rng.randrange(60))
            events.append(
                _event(Activity.Kind.EVENT_VISIT, at, SOURCE_MA, title=name, campaign=name)
            )
    return events


def company_events(
    spec: CompanySpec, datasets: Datasets, pools: SessionPools, now: datetime
) -> list[Event]:
    """Anonymous visits that reverse-IP lookup tied to a company with no known contact."""
    rng = seeded_rng("visits", spec.domain)
    if rng.random() >= 0.3 + 0.5 * spec.heat:
        return []
    extra = {"identified_by": "reverse_ip", "visitor": "anonymous"}
    events: list[Event] = []
    for _ in range(rng.randint(1, 4)):
        row = rng.choice(pools.browsing)
        events += _session_events(rng, datasets.sessions, row, now, extra=extra)
    return sorted(events, key=lambda e: e[1])


def intent_observations(spec: CompanySpec, now: datetime) -> list[tuple[str, int, datetime]]:
    """(topic, strength, observed_at) for about 40% of companies, hotter ones more often."""
    rng = seeded_rng("intent", spec.domain)
    if rng.random() >= 0.12 + 0.65 * spec.heat:
        return []
    pool = list(INTENT_TOPICS) + list(INTENT_BY_INDUSTRY.get(spec.industry, ())) * 3
    topics = list(dict.fromkeys(rng.sample(pool, rng.choice((1, 2, 2, 3, 3)))))
    observations = []
    for topic in topics:
        strength = rng.randint(20, 60) + int(35 * spec.heat)
        trend = rng.choice((-6, 0, 5, 10))  # a surge climbs toward today
        for days in sorted(rng.sample(range(1, INTENT_DAYS), rng.randint(2, 4)), reverse=True):
            day = _days_ago(now, days)
            at = _jst(day, 9, rng.randrange(60))
            observations.append((topic, max(20, min(100, strength)), at))
            strength += trend + rng.randint(-8, 8)
    return observations
