"""Home's figures: counted once, served from the cache, recounted once when stale."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portal import figures
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

ZONE = "Pacific/Auckland"  # a zone no other test renders Home in


@pytest.fixture
def cached(settings):
    settings.HOME_FIGURES_SECONDS = 60
    cache.delete(figures._KEY.format(zone=ZONE))
    cache.delete(figures._KEY.format(zone=ZONE) + ":refreshing")
    with timezone.override(ZONE):
        yield
    cache.delete(figures._KEY.format(zone=ZONE))


def test_a_fresh_entry_is_served_without_counting_again(cached):
    ContactFactory()
    first = figures.home_figures()
    ContactFactory()
    with CaptureQueriesContext(connection) as queries:
        again = figures.home_figures()
    assert again.leads.contacts == first.leads.contacts == 1
    assert len(queries) == 0


def test_a_stale_entry_is_recounted_once(cached, monkeypatch):
    ContactFactory()
    first = figures.home_figures()
    ContactFactory()
    later = first.computed_at + 61
    monkeypatch.setattr(figures.time, "time", lambda: later)
    # The refresh runs inline in the suite; in production the visit serves the old figures.
    assert figures.home_figures().leads.contacts == 2
    # Claimed and released: the next stale visit may refresh again, not before it is stale.
    assert cache.get(figures._KEY.format(zone=ZONE) + ":refreshing") is None
    with CaptureQueriesContext(connection) as queries:
        assert figures.home_figures().leads.contacts == 2
    assert len(queries) == 0


def test_each_time_zone_counts_its_own_days(cached):
    ContactFactory()
    figures.home_figures()
    with timezone.override("Asia/Tokyo"):
        cache.delete(figures._KEY.format(zone="Asia/Tokyo"))
        tokyo = figures.home_figures()
    assert tokyo.zone == "Asia/Tokyo"
    cache.delete(figures._KEY.format(zone="Asia/Tokyo"))


def test_the_unfiltered_leads_list_takes_the_count_home_made(cached, client, manager_user):
    manager_user.time_zone = ZONE  # the request counts in the viewer's zone
    manager_user.save()
    client.force_login(manager_user)
    ContactFactory.create_batch(3)
    figures.home_figures()
    ContactFactory()  # not counted yet: the list says 3 until Home recounts
    assert client.get("/leads/").context["page"].paginator.count == 3
    assert client.get("/leads/?sort=-score").context["page"].paginator.count == 3
    # Narrowed, the list counts its own rows.
    assert client.get("/leads/?q=zzz-nobody").context["page"].paginator.count == 0
