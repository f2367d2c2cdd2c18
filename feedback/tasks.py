"""Celery adapters for feedback: load by id, call one service."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from feedback.services import facts, review


@shared_task(
    name="feedback.tasks.cycle_facts_refresh",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=5,
)
def cycle_facts_refresh() -> int:
    """Facts of cycles that have none, then of stale ones (after cycles open; beat sweeps)."""
    return facts.cycle_facts_refresh_all()


@shared_task(name="feedback.tasks.review_run", acks_late=True)
def review_run(review_id: int) -> str:
    """Run one queued threshold review (idempotent: a claimed review is left alone)."""
    done = review.review_run(review_id=review_id)
    return done.status if done else "gone"


@shared_task(name="feedback.tasks.review_scheduled", acks_late=True)
def review_scheduled() -> int | None:
    """Beat's entry (feedback-threshold-review): the review of the previous month."""
    queued = review.review_scheduled()
    return queued.pk if queued else None


@shared_task(
    name="feedback.tasks.cycle_facts_sync",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=5,
)
def cycle_facts_sync(cycle_ids: list[int]) -> int:
    """Re-copy the report facts of cycles handoff or feedback changed (idempotent upsert)."""
    return facts.cycle_facts_sync(cycle_ids=cycle_ids)
