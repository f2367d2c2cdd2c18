"""Two stores of the same leads at once record each band move once (PostgreSQL).

Two full rescores, or a drain and a chunk, may store the same lead at the same
moment. The band a change starts from must be the one of the row the store
actually updated: a store that read the old band before waiting on the other's
row lock recorded the move a second time. These tests hold the rows with a
third connection until both stores are waiting on them, then let them go.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from scoring.models import BandChange, LeadScore, MqlEvent
from scoring.services.rescore import Totals, account_scores_store, contact_scores_store
from tests.factories import CompanyFactory, ContactFactory
from tests.scoring.test_definitions import _ensure_active

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WAIT_SECONDS = 20  # a guard against a hang, not a speed requirement


def _waiting_on_locks() -> int:
    """How many other backends of this database wait for a lock."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock' "
            "AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def _race(lock_sql: str, params: list, *stores: Callable[[], object]) -> list[BaseException]:
    """Run ``stores`` in threads while a third connection holds ``lock_sql``'s rows."""
    holder = connection.get_new_connection(connection.get_connection_params())
    errors: list[BaseException] = []

    def run(store: Callable[[], object]) -> None:
        try:
            with transaction.atomic():
                store()
        except BaseException as exc:  # reported by the caller
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(store,)) for store in stores]
    try:
        with holder.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute(lock_sql, params)
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + WAIT_SECONDS
        while _waiting_on_locks() < len(stores):
            assert time.monotonic() < deadline, "the stores never waited on the held rows"
            time.sleep(0.05)
    finally:
        holder.rollback()
        holder.close()
        for thread in threads:
            thread.join(timeout=WAIT_SECONDS)
    return errors


def _hot(total: float = 80.0) -> Totals:
    return Totals(total=total, fit=40.0, engagement=total - 40.0, band="hot")


def test_two_stores_of_the_same_leads_at_once_record_each_move_once():
    version = _ensure_active()
    contacts = [ContactFactory() for _ in range(3)]
    ids = [c.pk for c in contacts]
    before = timezone.now() - timedelta(hours=1)
    cold = Totals(total=5.0, fit=5.0, engagement=0.0, band="cold")
    contact_scores_store(scores=dict.fromkeys(ids, cold), version=version, at=before)
    at = timezone.now()  # both stores update (a later one would skip the older)

    errors = _race(
        "SELECT id FROM scoring_leadscore WHERE contact_id = ANY(%s) FOR UPDATE",
        [ids],
        lambda: contact_scores_store(scores=dict.fromkeys(ids, _hot()), version=version, at=at),
        lambda: contact_scores_store(scores=dict.fromkeys(ids, _hot(81.0)), version=version, at=at),
    )

    assert errors == []
    moves = list(BandChange.objects.filter(contact_id__in=ids).values_list("from_band", "to_band"))
    assert sorted(moves) == [("cold", "hot")] * 3
    assert MqlEvent.objects.filter(contact_id__in=ids).count() == 3
    assert set(LeadScore.objects.filter(contact_id__in=ids).values_list("band", flat=True)) == {
        "hot"
    }


def test_two_first_scores_of_a_lead_at_once_record_one_move():
    """Neither store finds a row; the second waits on the first's insert and updates it."""
    version = _ensure_active()
    contact = ContactFactory()
    at = timezone.now()
    errors = _race(
        # The holder inserts the row (uncommitted): both stores wait on its unique key.
        "INSERT INTO scoring_leadscore (contact_id, version_id, total, fit, engagement, band, "
        "previous_band, scored_at) VALUES (%s, %s, 0, 0, 0, 'cold', '', now())",
        [contact.pk, version.pk],
        lambda: contact_scores_store(scores={contact.pk: _hot()}, version=version, at=at),
        lambda: contact_scores_store(scores={contact.pk: _hot()}, version=version, at=at),
    )
    assert errors == []
    assert list(BandChange.objects.filter(contact=contact).values_list("from_band", "to_band")) == [
        ("", "hot")
    ]
    assert MqlEvent.objects.filter(contact=contact).count() == 1


def test_two_stores_of_the_same_accounts_at_once_record_each_move_once():
    version = _ensure_active()
    companies = [CompanyFactory() for _ in range(2)]
    ids = [c.pk for c in companies]
    before = timezone.now() - timedelta(hours=1)
    cold = Totals(total=5.0, fit=5.0, engagement=0.0, band="cold")
    account_scores_store(scores=dict.fromkeys(ids, cold), version=version, at=before)
    at = timezone.now()

    errors = _race(
        "SELECT id FROM scoring_leadscore WHERE company_id = ANY(%s) FOR UPDATE",
        [ids],
        lambda: account_scores_store(scores=dict.fromkeys(ids, _hot()), version=version, at=at),
        lambda: account_scores_store(scores=dict.fromkeys(ids, _hot()), version=version, at=at),
    )

    assert errors == []
    moves = BandChange.objects.filter(company_id__in=ids).values_list("from_band", "to_band")
    assert sorted(moves) == [("cold", "hot")] * 2
    assert LeadScore.objects.filter(company_id__in=ids, contact=None).count() == 2
