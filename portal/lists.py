"""The leads and companies lists: leads' rows, filtered and sorted by what scoring knows.

The pages and the CSV export read the same filters, so an export is what the list shows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.db.models import F, QuerySet
from django_filters import FilterSet

from leads import selectors
from leads.models import Company, Contact
from scoring.filters import AccountScoreFilter, LeadScoreFilter
from scoring.panels import Rollup, contacts_rollup


def lead_filter_for(*, actor, params: Mapping) -> LeadScoreFilter:
    """The bound leads-list filter; its ``.qs`` is the filtered, sorted queryset."""
    base = selectors.contacts_for(actor=actor).select_related("score")
    return LeadScoreFilter(data=params or None, queryset=base)


def company_filter_for(*, actor, params: Mapping) -> AccountScoreFilter:
    base = selectors.companies_for(actor=actor).select_related("account_score")
    return AccountScoreFilter(data=params or None, queryset=base)


def rows_of(filterset: FilterSet) -> QuerySet:
    """The filtered rows; none for a filter that does not validate (it shows its error).

    django-filter would drop an invalid field and list every row, and an export
    would then hold more than the page asked for.
    """
    if filterset.is_bound and not filterset.is_valid():
        return filterset.queryset.none()
    return filterset.qs


@dataclass(frozen=True, slots=True)
class CompanyRow:
    company: Company
    rollup: Rollup


def company_rows(companies: Sequence[Company]) -> list[CompanyRow]:
    """A page of companies with their contacts rolled up: one query for the page."""
    rollups = contacts_rollup(company_ids=[c.pk for c in companies])
    return [CompanyRow(company=c, rollup=rollups[c.pk]) for c in companies]


def company_contacts(*, company: Company, limit: int = 50) -> list[Contact]:
    """The company's contacts with their scores, best first."""
    contacts: QuerySet[Contact] = company.contacts.select_related("score").order_by(
        F("score__total").desc(nulls_last=True), "id"
    )
    return list(contacts[:limit])
