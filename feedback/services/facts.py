"""The per-cycle facts the reports and the review group by, computed set-based.

For each cycle: the source system of its lead's first activity, the first and last
campaign and content that touched the lead up to its MQL moment, and the rules in the
breakdown it was handed over with. Computed once per cycle (a cycle's MQL moment and
breakdown never change), in batches with a fixed number of queries each, after handoff
opens cycles (its ``cycles_opened`` signal) and by a beat sweep for any a lost task
missed. Rows are inserted with ``ignore_conflicts``: two runs at once write each once.

``cycle_facts_sync`` keeps the rest of a cycle's facts true: who owns it, its band and
score bucket at MQL time, when it was accepted, rejected (and why), became an SQL, an
opportunity, won or lost, the revenue won, and its SLA clocks. It runs after every change
handoff signals (``cycles_changed``: a stage change, an owner, a first touch) and every
verdict and deal feedback records, once per transaction after the commit, and the beat
sweep re-syncs any whose stage, owners or first touch no longer match their cycle. Per
batch of 2,000 cycles it costs a fixed number of queries, and the write is one upsert.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Min, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.db.models.lookups import GreaterThan, LessThan
from django.utils import timezone

from config import background
from feedback.models import CycleFacts, CycleRuleHit, Kind, Opportunity, Verdict
from handoff.models import Cycle, Stage, Transition
from leads.models import Activity

BATCH = 2000


def _touch(field: str, *, first: bool) -> Subquery:
    """The lead's first (or last) non-empty ``field`` up to the cycle's MQL moment."""
    rows = Activity.objects.filter(
        contact_id=OuterRef("contact_id"), occurred_at__lte=OuterRef("mql_at")
    ).exclude(**{field: ""})
    order = ("occurred_at", "id") if first else ("-occurred_at", "-id")
    return Subquery(rows.order_by(*order).values(field)[:1])


def _first_source() -> Subquery:
    rows = Activity.objects.filter(contact_id=OuterRef("contact_id"))
    return Subquery(rows.order_by("occurred_at", "id").values("source")[:1])


def cycle_facts_refresh(*, cycle_ids: Sequence[int] | None = None, limit: int = BATCH) -> int:
    """Compute the facts of up to ``limit`` cycles that have none (of ``cycle_ids`` if given).

    Returns how many cycles got facts. Account cycles (no contact) get an empty source
    and touches; their rule hits are recorded like any other.
    """
    pending = Cycle.objects.filter(facts__isnull=True)
    if cycle_ids is not None:
        pending = pending.filter(pk__in=list(cycle_ids))
    rows = list(
        pending.order_by("pk")
        .annotate(
            f_source=_first_source(),
            f_first_campaign=_touch("campaign_key", first=True),
            f_last_campaign=_touch("campaign_key", first=False),
            f_first_content=_touch("content_key", first=True),
            f_last_content=_touch("content_key", first=False),
        )
        .values(
            "pk", "breakdown", "f_source", "f_first_campaign", "f_last_campaign",
            "f_first_content", "f_last_content",
        )[:limit]
    )  # fmt: skip
    if not rows:
        return 0
    now = timezone.now()
    facts = [
        CycleFacts(
            cycle_id=row["pk"],
            source=(row["f_source"] or "")[:64],
            first_campaign=row["f_first_campaign"] or "",
            last_campaign=row["f_last_campaign"] or "",
            first_content=row["f_first_content"] or "",
            last_content=row["f_last_content"] or "",
            computed_at=now,
        )
        for row in rows
    ]
    hits = [
        CycleRuleHit(
            cycle_id=row["pk"],
            rule_key=str(part.get("rule", ""))[:100],
            category=str(part.get("category", ""))[:12],
            points=float(part.get("points") or 0.0),
        )
        for row in rows
        for part in (row["breakdown"] or [])
        if isinstance(part, dict) and part.get("rule") and (part.get("hits") or 0) > 0
    ]
    with transaction.atomic():
        CycleRuleHit.objects.bulk_create(hits, batch_size=1000, ignore_conflicts=True)
        CycleFacts.objects.bulk_create(facts, batch_size=1000, ignore_conflicts=True)
    return len(facts)


def cycle_facts_refresh_all(*, rounds: int = 10_000) -> int:
    """Every cycle without facts, batch after batch, then every stale one (the sweep)."""
    total = 0
    for _ in range(rounds):
        done = cycle_facts_refresh()
        total += done
        if done < BATCH:
            break
    after = 0  # in id order, so each stale row is synced once per sweep
    for _ in range(rounds):
        stale = list(
            _stale()
            .filter(cycle_id__gt=after)
            .order_by("cycle_id")
            .values_list("cycle_id", flat=True)[:BATCH]
        )
        if not stale:
            break
        cycle_facts_sync(cycle_ids=stale)
        after = stale[-1]
    return total


_NEVER = datetime(1970, 1, 1, tzinfo=UTC)


def _differ(mine: str, theirs: str, none) -> Q:
    """``mine`` and ``theirs`` differ, NULLs included (no negation: NOT on NULL is NULL)."""
    a, b = Coalesce(mine, Value(none)), Coalesce(theirs, Value(none))
    return Q(GreaterThan(a, b)) | Q(LessThan(a, b))


def _stale():
    """Facts whose cycle moved on since they were synced (a lost task; facts never synced)."""
    return CycleFacts.objects.filter(
        Q(synced_at__isnull=True)
        | _differ("stage", "cycle__stage", "")
        | _differ("first_touch_at", "cycle__first_touch_at", _NEVER)
        | _differ("owner_id", "cycle__owner_id", 0)
        | _differ("field_owner_id", "cycle__field_owner_id", 0)
    )


# The stages a cycle passes through when inside sales take it on (a verdict or a first
# call): the first of these is its acceptance, unless its MQL was rejected.
_ACCEPTED = (Stage.ACCEPTED, Stage.WORKING)
_FIRST = {
    "accepted_at": _ACCEPTED,
    "opportunity_at": (Stage.OPPORTUNITY,),
    "won_at": (Stage.WON,),
    "lost_at": (Stage.LOST,),
}
SYNCED = (
    "contact_id", "owner_id", "field_owner_id", "version_id", "mql_at", "band",
    "score_bucket", "stage", "accepted_at", "rejected_at", "reason_id", "sql_rejected_at",
    "sql_reason_id", "sql_at", "opportunity_at", "won_at", "lost_at", "revenue",
    "first_touch_at", "first_touch_due_at", "qualify_due_at", "synced_at",
)  # fmt: skip


def _bucket(score: Decimal | None) -> int | None:
    return None if score is None else int(score // 10 * 10)


def cycle_facts_sync(*, cycle_ids: Sequence[int]) -> int:
    """Copy what the reports measure of ``cycle_ids`` into their facts; returns how many.

    Cycles without facts get them first (``cycle_facts_refresh``). Five reads and one
    upsert per batch of 2,000, whatever happened to the cycles.
    """
    ids = sorted({int(i) for i in cycle_ids})
    done = 0
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        cycle_facts_refresh(cycle_ids=batch, limit=len(batch))
        done += _sync(batch)
    return done


def _sync(ids: list[int]) -> int:
    cycles = list(
        Cycle.objects.filter(pk__in=ids).values(
            "pk", "contact_id", "owner_id", "field_owner_id", "version_id", "mql_at",
            "score_band", "score_total", "stage", "sql_at", "first_touch_at",
            "first_touch_due_at", "qualify_due_at",
        )
    )  # fmt: skip
    firsts: dict[tuple[int, str], datetime] = {}
    stages = [s for group in _FIRST.values() for s in group]
    for row in (
        Transition.objects.filter(cycle_id__in=ids, to_stage__in=stages)
        .values("cycle_id", "to_stage")
        .annotate(first=Min("at"))
    ):
        firsts[row["cycle_id"], row["to_stage"]] = row["first"]
    rejections = {
        (v["cycle_id"], v["kind"]): v
        for v in Verdict.objects.filter(
            cycle_id__in=ids, decision=Verdict.Decision.REJECTED
        ).values("cycle_id", "kind", "at", "reason_id")
    }
    revenue = dict(
        Opportunity.objects.filter(cycle_id__in=ids, status=Opportunity.Status.WON)
        .values("cycle_id")
        .annotate(total=Sum("amount"))
        .values_list("cycle_id", "total")
    )
    now = timezone.now()
    rows = []
    for c in cycles:
        pk = c["pk"]

        def first(name: str, pk: int = pk) -> datetime | None:
            found = [firsts[pk, s] for s in _FIRST[name] if (pk, s) in firsts]
            return min(found) if found else None

        mql_no = rejections.get((pk, Kind.MQL))
        sql_no = rejections.get((pk, Kind.SQL))
        won = first("won_at")
        rows.append(
            CycleFacts(
                cycle_id=pk,
                contact_id=c["contact_id"],
                owner_id=c["owner_id"],
                field_owner_id=c["field_owner_id"],
                version_id=c["version_id"],
                mql_at=c["mql_at"],
                band=c["score_band"] or "",
                score_bucket=_bucket(c["score_total"]),
                stage=c["stage"],
                # A rejected MQL was not accepted, even if it had been called first.
                accepted_at=None if mql_no else first("accepted_at"),
                rejected_at=mql_no["at"] if mql_no else None,
                reason_id=mql_no["reason_id"] if mql_no else None,
                sql_rejected_at=sql_no["at"] if sql_no else None,
                sql_reason_id=sql_no["reason_id"] if sql_no else None,
                sql_at=c["sql_at"],
                opportunity_at=first("opportunity_at") or won,
                won_at=won,
                lost_at=first("lost_at"),
                revenue=revenue.get(pk) if won else None,
                first_touch_at=c["first_touch_at"],
                first_touch_due_at=c["first_touch_due_at"],
                qualify_due_at=c["qualify_due_at"],
                synced_at=now,
                computed_at=now,
            )
        )
    CycleFacts.objects.bulk_create(
        rows, batch_size=1000, update_conflicts=True, unique_fields=["cycle"],
        update_fields=list(SYNCED),
    )  # fmt: skip
    return len(rows)


class _Sync:
    """The on-commit callback of one transaction: one sync task for all its cycles."""

    def __init__(self) -> None:
        self.ids: set[int] = set()

    def __call__(self) -> None:
        from feedback.tasks import cycle_facts_sync as cycle_facts_sync_task

        # A broker outage is logged; the beat sweep finds the stale facts later.
        background.deliver(cycle_facts_sync_task, sorted(self.ids))


def cycle_facts_sync_after_commit(*, cycle_ids: Sequence[int]) -> None:
    """Sync these cycles' facts once the current transaction commits (once per transaction)."""
    background.on_commit_once(_Sync, lambda sync: sync.ids.update(cycle_ids))


def cycles_missing_facts() -> bool:
    return Cycle.objects.filter(Q(facts__isnull=True)).exists()
