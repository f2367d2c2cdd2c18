"""The writes: set-based, one transaction per stage, safe to run again."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from accounts.roles import Role
from common.text import match_key
from config import background
from leads.models import Activity, Company, Contact, IntentSignal
from leads.normalize import company_name_key
from leads.reference import region_for
from portal.demo.behaviour import (
    Event,
    SessionPools,
    company_events,
    contact_events,
    intent_observations,
)
from portal.demo.catalog import (
    BATCH,
    DEFAULT_COMPANIES,
    DEFAULT_CONTACTS,
    DEMO_DOMAIN_SUFFIX,
    DEMO_PASSWORD,
    DEMO_USERS,
    INTENT_PROVIDER,
    SOURCE_PREFIX,
    SYNTHETIC_COMPANIES,
    SYNTHETIC_CONTACTS,
)
from portal.demo.companies import CompanySpec, company_specs
from portal.demo.datasets import Datasets, datasets_load, datasets_synthetic
from portal.demo.history import demo_contact_ids, demo_history_replay, review_cutoff
from portal.demo.people import ContactSpec, contact_specs
from portal.demo.review import demo_review_approve, demo_review_earlier, review_backdate
from portal.demo.team import demo_reps_ensure, demo_team_at_work, silent_mail


def demo_users_ensure() -> int:
    """Create the five demo users that are missing, with their role. Returns how many."""
    User = get_user_model()
    names = [u[0] for u in DEMO_USERS]
    existing = set(User.objects.filter(username__in=names).values_list("username", flat=True))
    missing = [u for u in DEMO_USERS if u[0] not in existing]
    if not missing:
        return 0
    password = make_password(DEMO_PASSWORD)  # hashed once: the hasher is slow on purpose
    User.objects.bulk_create(
        User(
            username=username,
            password=password,
            last_name=last,
            first_name=first,
            email=f"{username}@portal{DEMO_DOMAIN_SUFFIX}",
            time_zone="Asia/Tokyo",
            is_staff=role == Role.ADMIN,
            is_superuser=role == Role.ADMIN,
        )
        for username, role, last, first in missing
    )
    ids = dict(User.objects.filter(username__in=names).values_list("username", "id"))
    # The role groups come from a migration; a flushed database (manage.py flush, a
    # transactional test) has lost them, so make sure they are there.
    Group.objects.bulk_create([Group(name=name) for name in Role.values], ignore_conflicts=True)
    groups = dict(Group.objects.filter(name__in=Role.values).values_list("name", "id"))
    Membership = User.groups.through
    Membership.objects.bulk_create(
        [Membership(user_id=ids[u], group_id=groups[role.value]) for u, role, _, _ in missing],
        ignore_conflicts=True,
    )
    return len(missing)


def demo_companies_upsert(*, specs: list[CompanySpec]) -> dict[str, int]:
    """Insert the companies not there yet; return domain -> id for every demo company.

    ignore_conflicts, not an update: a re-run must not undo edits made in the
    portal, and the unique indexes are partial, which ON CONFLICT (...) can't name.
    """
    Company.objects.bulk_create(
        (
            Company(
                name=s.name,
                name_kana=s.name_kana,
                name_key=company_name_key(s.name),
                domain=s.domain,
                corporate_number=s.corporate_number,
                industry=s.industry,
                industry_detail=s.industry_detail,
                employee_count=s.employee_count,
                revenue_band=s.revenue_band,
                prefecture=s.prefecture,
                region=region_for(s.prefecture),
                city=s.city,
                address=s.address,
                postal_code=s.postal_code,
            )
            for s in specs
        ),
        batch_size=BATCH,
        ignore_conflicts=True,
    )
    demo = Company.objects.filter(domain__endswith=DEMO_DOMAIN_SUFFIX)
    return dict(demo.values_list("domain", "id"))


def demo_contacts_upsert(
    *, specs: list[ContactSpec], company_ids: dict[str, int]
) -> dict[str, tuple[int, int | None]]:
    """Insert the contacts not there yet; return e-mail -> (id, company id) for all demo ones."""
    Contact.objects.bulk_create(
        (
            Contact(
                company_id=company_ids[s.company_domain],
                email=s.email,
                name=s.name,
                name_kana=s.name_kana,
                title=s.title,
                department=s.department,
                job_level=s.job_level,
                phone=s.phone,
                is_unsubscribed=s.is_unsubscribed,
            )
            for s in specs
            # A company whose 法人番号 was already in the portal under another
            # domain was not inserted; its demo people are left out.
            if s.company_domain in company_ids
        ),
        batch_size=BATCH,
        ignore_conflicts=True,
    )
    demo = Contact.objects.filter(email__endswith=DEMO_DOMAIN_SUFFIX)
    return {
        email: (pk, company) for email, pk, company in demo.values_list("email", "id", "company_id")
    }


def _activities(
    events: list[Event], *, prefix: str, contact_id: int | None, company_id: int
) -> Iterator[Activity]:
    for n, (kind, at, source, props) in enumerate(events):
        yield Activity(
            contact_id=contact_id,
            company_id=company_id,
            kind=kind,
            occurred_at=at,
            source=source,
            external_id=f"{prefix}-{n}",
            properties=props,
            **Activity.match_keys(props),
        )


def demo_activities_build(
    *,
    datasets: Datasets,
    companies: list[CompanySpec],
    contacts: list[ContactSpec],
    company_ids: dict[str, int],
    contact_ids: dict[str, tuple[int, int | None]],
    now: datetime,
) -> list[Activity]:
    """Unsaved activities for demo contacts and contact-less companies that have none yet."""
    done_contacts = set(
        Activity.objects.filter(source__startswith=SOURCE_PREFIX, contact__isnull=False)
        .values_list("contact_id", flat=True)
        .distinct()
    )
    done_companies = set(
        Activity.objects.filter(source__startswith=SOURCE_PREFIX, contact__isnull=True)
        .values_list("company_id", flat=True)
        .distinct()
    )
    pools = SessionPools.of(datasets.sessions)
    rows: list[Activity] = []
    with_contacts = set()
    for spec in contacts:
        if spec.email not in contact_ids:
            continue
        contact_id, company_id = contact_ids[spec.email]
        # The company is always set: account-level scoring reads one index. It is
        # the contact's own, unless someone detached it since the last run.
        company_id = company_id or company_ids.get(spec.company_domain)
        if company_id is None:
            continue
        with_contacts.add(spec.company_domain)
        if contact_id in done_contacts:
            continue
        events = contact_events(spec, datasets, pools, now)
        rows += _activities(
            events, prefix=f"demo-{contact_id}", contact_id=contact_id, company_id=company_id
        )
    for spec in companies:
        company_id = company_ids.get(spec.domain)
        if company_id is None or spec.domain in with_contacts or company_id in done_companies:
            continue
        events = company_events(spec, datasets, pools, now)
        rows += _activities(
            events, prefix=f"demo-co{company_id}", contact_id=None, company_id=company_id
        )
    return rows


def demo_last_activity_refresh() -> None:
    """Set last_activity_at on demo contacts and companies in two UPDATEs."""

    def latest(**scope) -> Subquery:
        newest = Activity.objects.filter(**scope).order_by("-occurred_at")
        return Subquery(newest.values("occurred_at")[:1])

    Contact.objects.filter(email__endswith=DEMO_DOMAIN_SUFFIX).update(
        last_activity_at=latest(contact=OuterRef("pk"))
    )
    Company.objects.filter(domain__endswith=DEMO_DOMAIN_SUFFIX).update(
        last_activity_at=latest(company=OuterRef("pk"))
    )


def demo_intent_build(
    *, companies: list[CompanySpec], company_ids: dict[str, int], now: datetime
) -> list[IntentSignal]:
    """Unsaved intent signals for demo companies that have none yet."""
    done = set(
        IntentSignal.objects.filter(provider=INTENT_PROVIDER)
        .values_list("company_id", flat=True)
        .distinct()
    )
    rows = []
    for spec in companies:
        company_id = company_ids.get(spec.domain)
        if company_id is None or company_id in done:
            continue
        for n, (topic, strength, at) in enumerate(intent_observations(spec, now)):
            rows.append(
                IntentSignal(
                    company_id=company_id,
                    topic=topic,
                    topic_key=match_key(topic),
                    strength=strength,
                    observed_at=at,
                    provider=INTENT_PROVIDER,
                    external_id=f"demo-intent-{company_id}-{n}",
                )
            )
    return rows


@transaction.atomic
def demo_reset() -> None:
    """Delete the demo data: demo-* activities and intent, demo contacts and companies.

    Rows from other sources that hang off a demo company or contact go with it
    (activities cascade; other contacts lose their company).
    """
    Activity.objects.filter(source__startswith=SOURCE_PREFIX).delete()
    IntentSignal.objects.filter(provider=INTENT_PROVIDER).delete()
    Contact.objects.filter(email__endswith=DEMO_DOMAIN_SUFFIX).delete()
    Company.objects.filter(domain__endswith=DEMO_DOMAIN_SUFFIX).delete()


@dataclass(frozen=True)
class DemoCounts:
    users: int
    companies: int
    contacts: int
    activities: int
    intent_signals: int

    @classmethod
    def now(cls) -> DemoCounts:
        User = get_user_model()
        return cls(
            users=User.objects.filter(username__in=[u[0] for u in DEMO_USERS]).count(),
            companies=Company.objects.filter(domain__endswith=DEMO_DOMAIN_SUFFIX).count(),
            contacts=Contact.objects.filter(email__endswith=DEMO_DOMAIN_SUFFIX).count(),
            activities=Activity.objects.filter(source__startswith=SOURCE_PREFIX).count(),
            intent_signals=IntentSignal.objects.filter(provider=INTENT_PROVIDER).count(),
        )


@dataclass(frozen=True)
class SeedResult:
    is_skipped: bool  # the demo data was already there
    is_synthetic: bool  # no datasets: invented companies
    before: DemoCounts
    after: DemoCounts


def demo_is_seeded(counts: DemoCounts, *, companies: int, contacts: int) -> bool:
    """Whether the demo data is there: the marker for the no-op run.

    All five users, at least the asked-for companies and contacts, and the last
    stage's output (intent signals). Stages commit in order, so intent means the
    earlier stages are done too.
    """
    return (
        counts.users == len(DEMO_USERS)
        and counts.companies >= companies
        and counts.contacts >= contacts
        and counts.activities > 0
        and counts.intent_signals > 0
    )


def demo_seed(
    *,
    datasets_dir: Path | None,
    companies: int | None = None,
    contacts: int | None = None,
    reset: bool = False,
    now: datetime | None = None,
    log: Callable[[str], None] = lambda message: None,
) -> SeedResult:
    """Create the demo users and data, or nothing if they are there already.

    ``datasets_dir=None`` means the real datasets are unavailable: the users and
    a small invented set are created instead. Each stage (users, companies,
    contacts, activities, intent) is one transaction, so an interrupted run
    leaves whole stages behind and the next run completes the rest.
    """
    is_synthetic = datasets_dir is None
    n_companies = companies or (SYNTHETIC_COMPANIES if is_synthetic else DEFAULT_COMPANIES)
    n_contacts = contacts or (SYNTHETIC_CONTACTS if is_synthetic else DEFAULT_CONTACTS)
    if reset:
        demo_reset()
        log("reset: demo data deleted")
    before = DemoCounts.now()
    if demo_is_seeded(before, companies=n_companies, contacts=n_contacts):
        return SeedResult(is_skipped=True, is_synthetic=is_synthetic, before=before, after=before)
    now = now or timezone.now()

    clock = _Clock(log)
    datasets = datasets_synthetic() if datasets_dir is None else datasets_load(datasets_dir)
    company_plan = company_specs(datasets=datasets, count=n_companies)
    contact_plan = contact_specs(companies=company_plan, count=n_contacts)
    clock.lap("datasets read and planned")
    with transaction.atomic():
        demo_users_ensure()
        demo_reps_ensure()
    with transaction.atomic():
        company_ids = demo_companies_upsert(specs=company_plan)
    clock.lap("users and companies")
    with transaction.atomic():
        contact_ids = demo_contacts_upsert(specs=contact_plan, company_ids=company_ids)
    clock.lap("contacts")
    activities = demo_activities_build(
        datasets=datasets,
        companies=company_plan,
        contacts=contact_plan,
        company_ids=company_ids,
        contact_ids=contact_ids,
        now=now,
    )
    clock.lap(f"{len(activities):,} activities built")
    with transaction.atomic():
        Activity.objects.bulk_create(activities, batch_size=BATCH, ignore_conflicts=True)
        demo_last_activity_refresh()
    clock.lap("activities written")
    signals = demo_intent_build(companies=company_plan, company_ids=company_ids, now=now)
    with transaction.atomic():
        IntentSignal.objects.bulk_create(signals, batch_size=BATCH, ignore_conflicts=True)
    clock.lap("intent signals written")
    # Handoff takes in each replayed MQL as it is recorded; the team then works them.
    # The weeks before the cutoff first, under the version an earlier review looked at;
    # then that review and its approval; then the weeks since, under what it proposed.
    cutoff = review_cutoff(now)
    earlier = demo_review_earlier()  # one a seeding before a --reset approved
    ids = demo_contact_ids()
    with silent_mail(), background.inline():
        replayed = demo_history_replay(
            now=now, contact_ids=ids, until=cutoff, version=earlier and earlier.based_on
        )
        worked = demo_team_at_work(now=now, until=cutoff)
        clock.lap(f"weeks before the review ({replayed:,} scores, {worked:,} cycles worked)")
        if earlier is None:
            review = demo_review_approve(now=now, cutoff=cutoff)
        else:
            review = earlier
            review_backdate(review=review, now=now, cutoff=cutoff)
        clock.lap(f"threshold review #{review.pk if review else '-'} run and approved")
        replayed = demo_history_replay(now=now, contact_ids=ids, since=cutoff)
        worked = demo_team_at_work(now=now, since=cutoff)
    clock.lap(f"weeks since the review ({replayed:,} scores, {worked:,} cycles worked)")
    return SeedResult(
        is_skipped=False, is_synthetic=is_synthetic, before=before, after=DemoCounts.now()
    )


class _Clock:
    """Logs each stage with its duration (seed_demo -v 2)."""

    def __init__(self, log: Callable[[str], None]) -> None:
        self._log = log
        self._last = time.perf_counter()

    def lap(self, what: str) -> None:
        now = time.perf_counter()
        self._log(f"  {what} ({now - self._last:.1f} s)")
        self._last = now
