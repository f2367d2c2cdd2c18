"""The sweep (beat, every ``SCORING_SWEEP_SECONDS``): what a lost message left behind.

Two things only a message starts can stall: a full rescore's chunk, and the
drain of an ingested batch. A worker killed mid-chunk leaves its message
unacknowledged in Redis until the visibility timeout (twice the hard time
limit: twenty minutes by default); a broker that was down when a batch
committed never got its drain task at all, nor a job its chunks. The sweep
finds both in the database and sends them again. When there is nothing to do
it costs two small queries.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from scoring.models import PendingRescore, RescoreChunk, RescoreJob
from scoring.services.jobs import _send_chunks, lease, pending_drain_all

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Swept:
    redispatched: int  # chunks sent again
    drained: int  # pending leads rescored


def chunks_redispatch(*, now: datetime | None = None) -> list[int]:
    """Send again the chunks of running jobs whose lease expired; returns their ids.

    A chunk a worker started and that is neither done nor running (its row is
    not locked: the worker's connection went with it) is sent at once. A chunk
    still waiting in the queue is sent again only when no chunk of its job
    started or finished within a lease: while the queue moves, it is merely
    waiting its turn. Each send renews the lease, so a chunk is sent at most
    once per lease; a duplicate delivery finds it done and does nothing.
    """
    now = now or timezone.now()
    quiet_since = now - lease()
    with transaction.atomic():
        overdue = (
            RescoreChunk.objects.filter(done=False, job__status__in=RescoreJob.ACTIVE)
            .filter(Q(lease_expires_at__lt=now) | Q(lease_expires_at__isnull=True))
            # A running chunk holds its row: SKIP LOCKED leaves it to its worker.
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("id")
            .values_list("id", "started_at", "job__created_at", "job__heartbeat_at")
        )
        due = [
            pk
            for pk, started_at, created_at, heartbeat_at in overdue
            if started_at is not None or max(created_at, heartbeat_at or created_at) < quiet_since
        ]
        if not due:
            return []
        RescoreChunk.objects.filter(id__in=due).update(
            lease_expires_at=now + lease(), redispatched=F("redispatched") + 1
        )
        transaction.on_commit(lambda: _send_chunks(due))
    logger.warning("sent %d rescore chunks again after their lease expired: %s", len(due), due)
    return due


def rescore_sweep(*, now: datetime | None = None) -> Swept:
    """Send again the overdue chunks, and drain every pending lead older than the grace.

    A pending row younger than ``SCORING_PENDING_GRACE_SECONDS`` is left to
    the drain task its batch sent. Older ones mean that task was lost (the
    broker was down when the batch committed) or is far behind: the sweep
    drains them all here, SKIP LOCKED sharing the work with any drain running.
    """
    now = now or timezone.now()
    redispatched = chunks_redispatch(now=now)
    drained = 0
    grace = timedelta(seconds=settings.SCORING_PENDING_GRACE_SECONDS)
    if PendingRescore.objects.filter(queued_at__lte=now - grace).exists():
        drained = pending_drain_all()
        logger.info("the sweep rescored %d pending leads", drained)
    return Swept(redispatched=len(redispatched), drained=drained)
