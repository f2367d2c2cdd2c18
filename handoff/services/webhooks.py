"""The SQL handoff, sent to the CRM: signed, retried with backoff, logged, replayable.

Each active endpoint gets a ``WebhookDelivery`` row in the transaction that hands the
lead over, and a Celery task posts it after commit. The body is JSON; the header
``X-Portal-Signature: t=<unix time>,v1=<hex>`` is HMAC-SHA256 of ``"<t>.<body>"`` with
the endpoint's secret, so the CRM can check both the sender and the freshness. A
failure (a network error or a non-2xx answer) is retried with exponential backoff up
to ``WEBHOOK_MAX_ATTEMPTS``; an admin reads the log and can replay any delivery.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from config import background
from handoff.models import Bant, Cycle, WebhookDelivery, WebhookEndpoint
from handoff.permissions import can_manage_webhooks

SIGNATURE_HEADER = "X-Portal-Signature"
TIMEOUT_SECONDS = 10


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def handover_payload(cycle: Cycle) -> dict:
    """What a CRM needs of an SQL: the lead, its company, BANT, owners, why it was hot."""
    contact, company = cycle.contact, cycle.company
    bant = Bant.objects.filter(cycle=cycle).first()
    return {
        "event": "lead.handed_over",
        "cycle": cycle.pk,
        "at": (cycle.handed_over_at or timezone.now()).isoformat(),
        "lead": None
        if contact is None
        else {
            "id": contact.pk,
            "email": contact.email,
            "name": contact.name,
            "title": contact.title,
        },
        "company": None
        if company is None
        else {
            "id": company.pk,
            "name": company.name,
            "domain": company.domain,
            "corporate_number": company.corporate_number,
        },
        "inside_sales": cycle.owner.username if cycle.owner else None,
        "field_sales": cycle.field_owner.username if cycle.field_owner else None,
        "score": {
            "total": float(cycle.score_total or 0),
            "band": cycle.score_band,
            "breakdown": cycle.breakdown,
        },
        "bant": None
        if bant is None
        else {item: bant.status_of(item) for item in Bant.ITEMS}
        | {
            "budget_range": bant.budget_range,
            "budget_amount_man": bant.budget_amount_man,
            "authority_role": bant.authority_role,
            "timeframe": bant.timeframe_month.isoformat() if bant.timeframe_month else None,
        },
    }


def webhooks_queue(*, cycle: Cycle) -> list[int]:
    """A delivery per active endpoint, sent after the caller's transaction commits."""
    endpoints = list(WebhookEndpoint.objects.filter(is_active=True))
    if not endpoints:
        return []
    payload = handover_payload(cycle)
    deliveries = WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(endpoint=e, cycle=cycle, payload=payload) for e in endpoints]
    )
    ids = [d.pk for d in deliveries]
    from handoff.tasks import webhook_deliver

    transaction.on_commit(lambda: [background.send(webhook_deliver, pk) for pk in ids])
    return ids


@dataclass(frozen=True, slots=True)
class Attempt:
    ok: bool
    status_code: int | None
    error: str


def _post(endpoint: WebhookEndpoint, body: bytes) -> Attempt:
    timestamp = int(time.time())
    request = urllib.request.Request(
        endpoint.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "alignment-portal-webhook/1",
            SIGNATURE_HEADER: signature(endpoint.secret, timestamp, body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return Attempt(200 <= response.status < 300, response.status, "")
    except urllib.error.HTTPError as exc:
        return Attempt(False, exc.code, str(exc.reason)[:500])
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        return Attempt(False, None, str(getattr(exc, "reason", exc))[:500])


def webhook_attempt(*, delivery_id: int) -> WebhookDelivery:
    """Post one delivery once and record the attempt (the task retries on failure)."""
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    if delivery.status == WebhookDelivery.Status.SUCCEEDED:
        return delivery
    body = json.dumps(delivery.payload, ensure_ascii=False, sort_keys=True).encode()
    attempt = _post(delivery.endpoint, body)  # outside any transaction: slow I/O
    values = {
        "attempts": F("attempts") + 1,
        "last_status_code": attempt.status_code,
        "last_error": attempt.error,
    }
    if attempt.ok:
        values |= {"status": WebhookDelivery.Status.SUCCEEDED, "delivered_at": timezone.now()}
    elif delivery.attempts + 1 >= settings.WEBHOOK_MAX_ATTEMPTS:
        values["status"] = WebhookDelivery.Status.FAILED
    WebhookDelivery.objects.filter(pk=delivery.pk).update(**values)
    delivery.refresh_from_db()
    return delivery


def webhook_replay(*, actor, delivery_id: int) -> WebhookDelivery:
    """An admin sends a delivery again (its attempts start over)."""
    from handoff.tasks import webhook_deliver

    if not can_manage_webhooks(actor):
        raise PermissionDenied(_("Only an administrator replays webhooks."))
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk=delivery_id).update(
            status=WebhookDelivery.Status.PENDING, attempts=0, last_error=""
        )
        transaction.on_commit(lambda: background.send(webhook_deliver, delivery_id))
    return WebhookDelivery.objects.get(pk=delivery_id)
