"""The hot leads' partial index: the list's hot filter reads it, and rescoring stays HOT.

``scoring_hot_lead_idx`` is keyed by contact_id alone so that a rescore that changes a
total (every row, every night) remains a heap-only update on PostgreSQL.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from scoring.models import DefinitionVersion, LeadScore
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

LIST = reverse("portal:lead-list")


@pytest.fixture
def scores(db):
    version = DefinitionVersion.objects.get(status="active")
    now = timezone.now()
    made = []
    for n, (total, band) in enumerate(
        [(90, "hot"), (75, "hot"), (75, "hot"), (120, "warm"), (20, "cold"), (88, "hot")]
    ):
        contact = ContactFactory(name=f"リード {n}")
        made.append(
            LeadScore.objects.create(
                contact=contact,
                version=version,
                total=total,
                fit=10,
                engagement=total - 10,
                band=band,
                scored_at=now,
            )
        )
    return made


def test_hot_by_score_lists_only_hot_leads_highest_first_ties_by_newest_id(
    client, sales_user, scores
):
    client.force_login(sales_user)
    response = client.get(LIST, {"band": "hot", "sort": "-score"})
    shown = [c.pk for c in response.context["page"].object_list]
    hot = sorted((s for s in scores if s.band == "hot"), key=lambda s: (-s.total, -s.contact_id))
    assert shown == [s.contact_id for s in hot]
    assert response.context["page"].paginator.count == 4


def _plan(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a few rows: make it choose
        cursor.execute("EXPLAIN " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.postgres
def test_the_hot_filter_and_its_count_read_the_partial_index(client, sales_user, scores):
    client.force_login(sales_user)
    with CaptureQueriesContext(connection) as captured:
        client.get(LIST, {"band": "hot", "sort": "-score"})
    ours = [q["sql"] for q in captured.captured_queries if "scoring_leadscore" in q["sql"]]
    # The page's ids and the count, one query (COUNT(*) OVER ()).
    page_ids = next(sql for sql in ours if "LIMIT" in sql)
    assert "OVER ()" in page_ids
    assert "scoring_hot_lead_idx" in _plan(page_ids), page_ids


def _hot_updates() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_get_xact_tuples_hot_updated('scoring_leadscore'::regclass)")
        return cursor.fetchone()[0]


@pytest.mark.postgres
def test_a_new_total_stays_a_heap_only_update_and_only_a_band_move_is_not(scores):
    hot = [s.pk for s in scores if s.band == "hot"]
    before = _hot_updates()
    LeadScore.objects.filter(pk__in=hot).update(total=F("total") + 1, fit=F("fit") + 1)
    assert _hot_updates() - before == len(hot)  # no index holds total or fit
    before = _hot_updates()
    LeadScore.objects.filter(pk=hot[0]).update(band="warm")
    assert _hot_updates() - before == 0  # a band move writes the indexes (hot's drops it)
