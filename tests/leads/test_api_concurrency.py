"""Concurrent batches on PostgreSQL: no deadlocks, no double counting."""

from __future__ import annotations

import datetime as dt
import logging
import threading

import pytest
from django.db import connection

from leads.models import Activity, Contact
from leads.services.contacts import ContactInput
from leads.services.ingest import EventInput, events_ingest
from tests.factories import ContactFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WHEN = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def _run_together(*batches: list[EventInput]):
    """Run events_ingest for each batch in its own thread and connection, all at once."""
    barrier = threading.Barrier(len(batches))
    results: list = [None] * len(batches)
    errors: list[BaseException] = []

    def work(index: int, batch: list[EventInput]) -> None:
        try:
            barrier.wait()
            results[index] = events_ingest(events=batch)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i, b)) for i, b in enumerate(batches)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return results


def _events(contacts: list[str], prefix: str, hours: int = 0) -> list[EventInput]:
    return [
        EventInput(
            source="t",
            external_id=f"{prefix}-{i}",
            kind="page_view",
            occurred_at=WHEN + dt.timedelta(hours=hours, minutes=i),
            contact=ContactInput(email=email),
        )
        for i, email in enumerate(contacts)
    ]


def test_batches_touching_the_same_contacts_do_not_deadlock(caplog):
    # Overlapping sets of different sizes: without an explicit lock order the
    # database would lock the shared rows in a different order in each batch.
    emails = [ContactFactory(email=f"p{n}@example.co.jp").email for n in range(900)]
    caplog.set_level(logging.WARNING, logger="leads.services.retry")
    batches = [
        _events(emails[:300], "a"),
        _events(list(reversed(emails)), "b", hours=5),
        _events(emails[::3], "c", hours=1),
    ]
    results = _run_together(*batches)
    assert [r.created for r in results] == [300, 900, 300]
    assert "retrying" not in caplog.text  # they queued; none was rolled back
    newest = Contact.objects.get(email=emails[0]).last_activity_at
    assert newest == WHEN + dt.timedelta(hours=5, minutes=899)


def test_a_batch_raced_by_its_own_replay_is_stored_and_counted_once():
    emails = [f"new{n}@example.co.jp" for n in range(300)]
    batch = _events(emails, "same")
    first, second = _run_together(batch, batch)
    assert first.created + second.created == 300
    assert first.duplicates + second.duplicates == 300
    assert Activity.objects.count() == 300
    assert Contact.objects.count() == 300
