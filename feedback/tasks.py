"""Celery adapters for feedback: load by id, call one service."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from feedback.services import facts


@shared_task(
    name="feedback.tasks.cycle_facts_refresh",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=5,
)
def cycle_facts_refresh() -> int:
    """The report facts of cycles that have none (after handoff opens cycles; beat sweeps)."""
    return facts.cycle_facts_refresh_all()
