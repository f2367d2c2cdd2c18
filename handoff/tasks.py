"""Celery adapters for the handoff: load by id, call one service."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.db import OperationalError

from handoff.models import WebhookDelivery
from handoff.services import intake, notifications, sla, webhooks

logger = logging.getLogger(__name__)


@shared_task(
    name="handoff.tasks.mql_intake",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=5,
)
def mql_intake() -> int:
    """Take in the leads that became hot (queued after each scoring drain; beat sweeps too),
    and those still hot when their cooling-off ended."""
    return intake.mql_intake_all() + intake.cooled_leads_intake()


@shared_task(name="handoff.tasks.sla_sweep", acks_late=True)
def sla_sweep() -> dict[str, int]:
    """Beat: remind owners before a deadline, escalate a breach to the managers; once each."""
    result = sla.sla_sweep()
    return {"reminded": result.reminded, "escalated": result.escalated}


@shared_task(name="handoff.tasks.notifications_email", acks_late=True)
def notifications_email() -> int:
    return notifications.notifications_email()


@shared_task(name="handoff.tasks.webhook_deliver", bind=True, acks_late=True, max_retries=None)
def webhook_deliver(self, delivery_id: int) -> str:
    """Post one delivery; on failure retry with exponential backoff, up to the limit."""
    try:
        delivery = webhooks.webhook_attempt(delivery_id=delivery_id)
    except WebhookDelivery.DoesNotExist:
        logger.warning("webhook delivery %s is gone; skipped", delivery_id)
        return "gone"
    if delivery.status == WebhookDelivery.Status.PENDING and not self.request.is_eager:
        raise self.retry(
            countdown=min(3600, settings.WEBHOOK_BACKOFF_SECONDS * 2**delivery.attempts)
        )
    return delivery.status
