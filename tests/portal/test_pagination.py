"""The deferred-join paginator pages exactly as Django's own, in fewer queries."""

from __future__ import annotations

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leads.models import Contact
from portal.pagination import DeferredJoinPaginator
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

NUMBERS = [1, 2, 3, 4, 9, "2", "x", "", None, 0, -1, 2.5]


@pytest.fixture
def contacts(db):
    return [ContactFactory() for _ in range(27)]


def _page(paginator, number):
    page = paginator.get_page(number)
    return page.number, [c.pk for c in page.object_list], paginator.count, paginator.num_pages


@pytest.mark.parametrize(("per_page", "orphans"), [(10, 0), (25, 0), (25, 3), (13, 1), (27, 0)])
def test_every_page_is_what_djangos_paginator_gives(contacts, per_page, orphans):
    queryset = Contact.objects.select_related("company").order_by("-created_at", "-id")
    for number in NUMBERS:
        ours = _page(DeferredJoinPaginator(queryset, per_page, orphans=orphans), number)
        assert ours == _page(Paginator(queryset, per_page, orphans=orphans), number), number


def test_a_filtered_or_empty_list_pages_as_djangos_too(contacts):
    odd = Contact.objects.filter(pk__in=[c.pk for c in contacts[::2]]).order_by("name", "id")
    none = Contact.objects.none()
    nobody = Contact.objects.filter(email="nobody@example.invalid").order_by("id")
    for queryset in (odd, none, nobody):
        for number in NUMBERS:
            ours = _page(DeferredJoinPaginator(queryset, 5), number)
            assert ours == _page(Paginator(queryset, 5), number), (queryset, number)


def test_an_uncounted_filtered_list_counts_in_the_ids_query(contacts, django_assert_num_queries):
    queryset = Contact.objects.filter(pk__gt=0).select_related("company").order_by("-id")
    with django_assert_num_queries(2):  # the ids with the count, then the rows
        page = DeferredJoinPaginator(queryset, 10).get_page(2)
        assert page.paginator.count == 27 and len(page.object_list) == 10
    counted = DeferredJoinPaginator(queryset, 10)
    counted.count = 27  # known beforehand (Home's figures, the queue's overview)
    with django_assert_num_queries(2):  # the ids (a plain LIMIT), then the rows
        assert len(counted.get_page(3).object_list) == 7


def test_an_unfiltered_list_keeps_a_limit_that_stops_at_the_page(contacts):
    queryset = Contact.objects.select_related("company").order_by("-id")
    with CaptureQueriesContext(connection) as captured:
        page = DeferredJoinPaginator(queryset, 10).get_page(1)
    assert len(page.object_list) == 10
    assert len(captured.captured_queries) == 3  # COUNT, the ids, the rows
    assert not any("OVER" in q["sql"] for q in captured.captured_queries)
