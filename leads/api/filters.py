"""List filters for the API (django-filter). Values are normalised like the data.

Numbers and times are bounded (config.filtering), so no value is a 500.
"""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from config.filtering import BoundedFilterSet
from leads.filters import CompanyFilter
from leads.models import Contact, IntentSignal
from leads.normalize import (
    clean_text,
    company_name_key,
    normalize_digits,
    normalize_domain,
    normalize_email,
    normalize_identifier,
)


class CompanyApiFilter(CompanyFilter):
    domain = django_filters.CharFilter(label=_("Domain"), method="filter_domain")
    corporate_number = django_filters.CharFilter(
        label=_("Corporate number"), method="filter_corporate_number"
    )
    name = django_filters.CharFilter(label=_("Name contains"), method="filter_name")
    updated_since = django_filters.IsoDateTimeFilter(
        label=_("Updated since"), field_name="updated_at", lookup_expr="gte"
    )

    class Meta(CompanyFilter.Meta):
        fields = [*CompanyFilter.Meta.fields, "domain", "corporate_number", "name"]

    def filter_domain(self, queryset, name, value: str):
        return queryset.filter(domain=normalize_domain(value))

    def filter_corporate_number(self, queryset, name, value: str):
        return queryset.filter(corporate_number=normalize_digits(value).replace("-", ""))

    def filter_name(self, queryset, name, value: str):
        key = company_name_key(value)
        if not key:
            return queryset
        return queryset.filter(name_key__contains=key)


class ContactApiFilter(BoundedFilterSet):
    email = django_filters.CharFilter(label=_("E-mail"), method="filter_email")
    company = django_filters.NumberFilter(label=_("Company id"), field_name="company_id")
    company_domain = django_filters.CharFilter(
        label=_("Company domain"), method="filter_company_domain"
    )
    q = django_filters.CharFilter(label=_("Search"), method="filter_q")
    updated_since = django_filters.IsoDateTimeFilter(
        label=_("Updated since"), field_name="updated_at", lookup_expr="gte"
    )
    active_since = django_filters.IsoDateTimeFilter(
        label=_("Active since"), field_name="last_activity_at", lookup_expr="gte"
    )

    class Meta:
        model = Contact
        fields = ["email", "company", "company_domain", "q"]

    def filter_email(self, queryset, name, value: str):
        return queryset.filter(email=normalize_email(value))

    def filter_company_domain(self, queryset, name, value: str):
        return queryset.filter(company__domain=normalize_domain(value))

    def filter_q(self, queryset, name, value: str):
        text = clean_text(value)
        if not text:
            return queryset
        return queryset.filter(name__icontains=text) | queryset.filter(email__icontains=text)


class IntentApiFilter(BoundedFilterSet):
    company = django_filters.NumberFilter(label=_("Company id"), field_name="company_id")
    company_domain = django_filters.CharFilter(
        label=_("Company domain"), method="filter_company_domain"
    )
    topic = django_filters.CharFilter(label=_("Topic"), field_name="topic", lookup_expr="iexact")
    provider = django_filters.CharFilter(label=_("Provider"), method="filter_provider")
    min_strength = django_filters.NumberFilter(
        label=_("Strength at least"), field_name="strength", lookup_expr="gte"
    )
    observed_after = django_filters.IsoDateTimeFilter(
        label=_("Observed at or after"), field_name="observed_at", lookup_expr="gte"
    )
    observed_before = django_filters.IsoDateTimeFilter(
        label=_("Observed before"), field_name="observed_at", lookup_expr="lt"
    )

    class Meta:
        model = IntentSignal
        fields = ["company", "company_domain", "topic", "provider"]

    def filter_company_domain(self, queryset, name, value: str):
        return queryset.filter(company__domain=normalize_domain(value))

    def filter_provider(self, queryset, name, value: str):
        return queryset.filter(provider=normalize_identifier(value))
