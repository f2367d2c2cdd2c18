"""The per-cycle facts the reports and the review group by, computed set-based.

For each cycle: the source system of its lead's first activity, the first and last
campaign and content that touched the lead up to its MQL moment, and the rules in the
breakdown it was handed over with. Computed once per cycle (a cycle's MQL moment and
breakdown never change), in batches with a fixed number of queries each, after handoff
opens cycles (its ``cycles_opened`` signal) and by a beat sweep for any a lost task
missed. Rows are inserted with ``ignore_conflicts``: two runs at once write each once.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from feedback.models import CycleFacts, CycleRuleHit
from handoff.models import Cycle
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
    """Every cycle without facts, batch after batch (the sweep; seeding)."""
    total = 0
    for _ in range(rounds):
        done = cycle_facts_refresh()
        total += done
        if done < BATCH:
            break
    return total


def cycles_missing_facts() -> bool:
    return Cycle.objects.filter(Q(facts__isnull=True)).exists()
