"""Taking in the leads that became hot: one new cycle per MQL event, assigned at once.

Scoring records an ``MqlEvent`` each time a lead turns hot and says so with its
``mql_events_recorded`` signal; our receiver queues ``handoff.tasks.mql_intake`` after that
transaction commits, and a beat sweep catches anything a broker outage dropped. Each
event is picked up once (an ``MqlIntake`` row, in the transaction that acts on it):

* the lead has an open cycle already → nothing new (it is being worked);
* its last cycle was recycled and its cooling-off has not ended → it waits;
* else a new cycle: its score and breakdown as they were at that moment, its SLA due
  times on the organisation's calendar, BANT prefilled from its inquiry forms, an owner.

Set-based: a batch costs a fixed number of queries whatever its size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Exists, Max, OuterRef
from django.utils import timezone

from handoff.models import (
    CLOSED_STAGES,
    Bant,
    BantSource,
    BantStatus,
    Cycle,
    FormBantField,
    MqlIntake,
    Stage,
    Transition,
)
from handoff.services.assignment import cycles_assign
from handoff.services.calendar import calendar_of, handoff_settings, sla_due
from handoff.services.lifecycle import score_snapshot
from handoff.services.priority import cycles_refresh_priority
from handoff.signals import cycles_opened
from leads.models import Activity, Contact
from scoring.models import DefinitionVersion, MqlEvent
from scoring.services.jobs import definition_of
from scoring.services.rescore import Subjects, account_scores_compute, contact_scores_compute

INTAKE_BATCH = 1000


@dataclass(frozen=True, slots=True)
class IntakeResult:
    events: int
    cycles: int
    already_open: int
    cooling: int


def _form_answers(contact_ids: Sequence[int]) -> dict[int, dict[str, str]]:
    """{contact: {item: answer}} from each contact's latest inquiry form, by the admins' map."""
    mapping = dict(FormBantField.objects.values_list("property_name", "item"))
    if not mapping or not contact_ids:
        return {}
    found: dict[int, dict[str, str]] = {}
    rows = (
        Activity.objects.filter(contact_id__in=contact_ids, kind=Activity.Kind.FORM_SUBMISSION)
        .order_by("contact_id", "-occurred_at", "-id")
        .values_list("contact_id", "properties")
    )
    for contact_id, properties in rows.iterator(chunk_size=2000):
        if contact_id in found or not isinstance(properties, dict):
            continue
        answers = {}
        for name, item in mapping.items():
            value = properties.get(name)
            if isinstance(value, str | int | float) and str(value).strip():
                answers.setdefault(item, str(value).strip()[:200])
        found[contact_id] = answers
    return found


def _bant_from_form(cycle: Cycle, answers: dict[str, str]) -> Bant:
    """A form's answers are a lead's own words: partial until a call confirms them."""
    bant = Bant(cycle=cycle, form_answers=answers)
    for item in answers:
        setattr(bant, f"{item}_status", BantStatus.PARTIAL)
        setattr(bant, f"{item}_source", BantSource.FORM)
    if "need" in answers:
        bant.need_notes = answers["need"]
    return bant


@dataclass(frozen=True, slots=True)
class _Entry:
    """A lead to open a cycle for: who, since when, under which version, its total."""

    contact_id: int | None
    company_id: int | None  # the account's, for an account entry
    at: datetime
    version: object  # a DefinitionVersion
    total: object  # Decimal
    origin: str = Cycle.Origin.SCORE
    reason: str = "became_hot"


def _snapshots(entries: Sequence[_Entry]) -> list[object | None]:
    """Each entry's score (with breakdown) at its moment: set-based, one compute per moment."""
    found: list[object | None] = [None] * len(entries)
    groups: dict[tuple[int, datetime, bool], list[int]] = {}
    for n, entry in enumerate(entries):
        groups.setdefault((entry.version.pk, entry.at, entry.contact_id is None), []).append(n)
    for (_version, at, is_account), members in groups.items():
        definition = definition_of(entries[members[0]].version)
        compute = account_scores_compute if is_account else contact_scores_compute
        ids = tuple(entries[n].company_id if is_account else entries[n].contact_id for n in members)
        scores = compute(definition=definition, subjects=Subjects(ids=ids), at=at, breakdown=True)
        for n, pk in zip(members, ids, strict=True):
            found[n] = scores.get(pk)
    return found


def _open_cycles(entries: Sequence[_Entry], *, now: datetime) -> list[Cycle]:
    """New cycles for ``entries`` (none of which has one open), assigned: set-based."""
    if not entries:
        return []
    contact_ids = {e.contact_id for e in entries if e.contact_id}
    company_ids = {e.company_id for e in entries if e.contact_id is None}
    numbers = dict(
        Cycle.objects.filter(contact_id__in=contact_ids)
        .values("contact_id")
        .annotate(n=Max("number"))
        .values_list("contact_id", "n")
    )
    account_numbers = dict(
        Cycle.objects.filter(company_id__in=company_ids, contact__isnull=True)
        .values("company_id")
        .annotate(n=Max("number"))
        .values_list("company_id", "n")
    )
    companies_of = dict(Contact.objects.filter(pk__in=contact_ids).values_list("id", "company_id"))
    row = handoff_settings()
    calendar = calendar_of(row)
    snapshots = _snapshots(entries)
    answers = _form_answers(sorted(contact_ids))
    cycles = []
    for entry, snapshot in zip(entries, snapshots, strict=True):
        touch_due, qualify_due = sla_due(row, calendar, entry.at)
        if entry.contact_id:
            number = numbers.get(entry.contact_id, 0) + 1
            company_id = companies_of.get(entry.contact_id)
        else:
            number = account_numbers.get(entry.company_id, 0) + 1
            company_id = entry.company_id
        cycles.append(
            Cycle(
                contact_id=entry.contact_id,
                company_id=company_id,
                number=number,
                origin=entry.origin,
                mql_at=entry.at,
                version=entry.version,
                score_total=entry.total,
                score_fit=round(snapshot.fit, 2) if snapshot else None,
                score_band="hot",
                breakdown=score_snapshot(snapshot) if snapshot else [],
                first_touch_due_at=touch_due,
                qualify_due_at=qualify_due,
            )
        )
    Cycle.objects.bulk_create(cycles, batch_size=500)
    cycles_refresh_priority(cycle_ids=[c.pk for c in cycles])
    cycles_opened.send(sender=Cycle, cycle_ids=[c.pk for c in cycles])
    Bant.objects.bulk_create(
        [_bant_from_form(c, answers.get(c.contact_id, {})) for c in cycles], batch_size=500
    )
    Transition.objects.bulk_create(
        [
            Transition(
                cycle=c,
                contact_id=c.contact_id,
                company_id=c.company_id,
                from_stage="",
                to_stage=Stage.MQL,
                at=c.mql_at,
                version_id=c.version_id,
                score_total=c.score_total,
                score_band="hot",
                reason_code=entry.reason,
            )
            for c, entry in zip(cycles, entries, strict=True)
        ],
        batch_size=500,
    )
    cycles_assign(cycles=cycles, at=now)
    return cycles


def mql_intake(*, limit: int = INTAKE_BATCH, now: datetime | None = None) -> IntakeResult:
    """Take in up to ``limit`` MQL events not picked up yet (oldest first)."""
    for _attempt in range(3):
        try:
            return _intake(limit=limit, now=now or timezone.now())
        except IntegrityError:
            # A lead got an open cycle meanwhile (raised by hand, or a racing intake):
            # the next attempt sees it and counts the event as already open.
            continue
    return _intake(limit=limit, now=now or timezone.now())


def _intake(*, limit: int, now: datetime) -> IntakeResult:
    with transaction.atomic():
        picked = MqlIntake.objects.filter(mql_event=OuterRef("pk"))
        events = list(
            MqlEvent.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(~Exists(picked))
            .order_by("became_hot_at", "id")[:limit]
        )
        if not events:
            return IntakeResult(0, 0, 0, 0)
        contact_ids = {e.contact_id for e in events if e.contact_id}
        company_ids = {e.company_id for e in events if e.contact_id is None}
        open_contacts = set(
            Cycle.objects.filter(contact_id__in=contact_ids)
            .exclude(stage__in=CLOSED_STAGES)
            .values_list("contact_id", flat=True)
        )
        open_accounts = set(
            Cycle.objects.filter(company_id__in=company_ids, contact__isnull=True)
            .exclude(stage__in=CLOSED_STAGES)
            .values_list("company_id", flat=True)
        )
        cooling = {
            (contact, company): until
            for contact, company, until in Cycle.objects.filter(cooling_until__gt=now)
            .filter(contact_id__in=contact_ids)
            .values_list("contact_id", "company_id", "cooling_until")
        }
        cooling |= {
            (None, company): until
            for company, until in Cycle.objects.filter(
                cooling_until__gt=now, contact__isnull=True, company_id__in=company_ids
            ).values_list("company_id", "cooling_until")
        }
        cooling_contacts = {c for c, _co in cooling if c}
        cooling_accounts = {co for c, co in cooling if c is None}
        new_events, intakes = [], []
        seen: set[tuple[int | None, int | None]] = set()
        for event in events:
            subject = (event.contact_id, None if event.contact_id else event.company_id)
            if event.contact_id:
                busy = event.contact_id in open_contacts
                waits = event.contact_id in cooling_contacts
            else:
                busy = event.company_id in open_accounts
                waits = event.company_id in cooling_accounts
            if busy or subject in seen:
                intakes.append(
                    MqlIntake(mql_event=event, outcome=MqlIntake.Outcome.ALREADY_OPEN, at=now)
                )
            elif waits:
                intakes.append(
                    MqlIntake(mql_event=event, outcome=MqlIntake.Outcome.COOLING, at=now)
                )
            else:
                new_events.append(event)
                seen.add(subject)
        # Each version once (its spec is large): not one copy per event.
        versions = DefinitionVersion.objects.in_bulk({e.version_id for e in new_events})
        entries = [
            _Entry(
                contact_id=e.contact_id,
                company_id=e.company_id,
                at=e.became_hot_at,
                version=versions[e.version_id],
                total=e.total,
            )
            for e in new_events
        ]
        cycles = _open_cycles(entries, now=now)
        intakes += [
            MqlIntake(mql_event=e, outcome=MqlIntake.Outcome.NEW_CYCLE, cycle=c, at=now)
            for e, c in zip(new_events, cycles, strict=True)
        ]
        MqlIntake.objects.bulk_create(intakes, batch_size=500)
        outcome = [i.outcome for i in intakes]
        return IntakeResult(
            events=len(events),
            cycles=len(cycles),
            already_open=outcome.count(MqlIntake.Outcome.ALREADY_OPEN),
            cooling=outcome.count(MqlIntake.Outcome.COOLING),
        )


def mql_intake_all(*, rounds: int = 1000) -> int:
    """Take in everything waiting; returns how many new cycles."""
    total = 0
    for _round in range(rounds):
        result = mql_intake()
        total += result.cycles
        if result.events < INTAKE_BATCH:
            break
    return total


def cooled_leads_intake(*, now: datetime | None = None, limit: int = INTAKE_BATCH) -> int:
    """Leads still hot when their cooling-off ends come back as a new cycle (once).

    A lead recycled while hot never *turns* hot again, so scoring records no new MQL
    event that would bring it back. The sweep finds the contacts whose latest cycle was recycled, whose cooling-off
    is over and whose score is hot now, and opens their next cycle. Returns how many.
    """
    from django.db.models import Subquery

    from scoring.models import LeadScore

    now = now or timezone.now()
    latest = Cycle.objects.filter(contact_id=OuterRef("contact_id")).order_by("-number")
    candidates = list(
        Cycle.objects.filter(
            stage=Stage.RECYCLED,
            cooling_until__lte=now,
            contact__isnull=False,
            contact__score__band="hot",
        )
        .filter(pk=Subquery(latest.values("pk")[:1]))
        .values_list("contact_id", flat=True)[:limit]
    )
    if not candidates:
        return 0
    scores = LeadScore.objects.filter(contact_id__in=candidates).select_related("version")
    entries = [
        _Entry(
            contact_id=score.contact_id,
            company_id=None,
            at=now,
            version=score.version,
            total=score.total,
            origin=Cycle.Origin.COOLED,
            reason="cooled_off_still_hot",
        )
        for score in scores
    ]
    try:
        with transaction.atomic():
            return len(_open_cycles(entries, now=now))
    except IntegrityError:
        return 0  # one of them got an open cycle meanwhile; the next sweep takes the rest
