"""Filters for the leads and companies lists over what leads owns (django-filter).

Scoring extends them with score filters and sorts (scoring.filters); the pages and the
CSV export use the extended ones.
"""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from config.filtering import BoundedFilterSet
from leads.models import Activity, Company, Contact
from leads.normalize import clean_text, company_name_key
from leads.reference import Industry, Prefecture, Region

ANY = _("Any")


class AnyYesNo(django_filters.widgets.BooleanWidget):
    """A yes/no filter whose empty choice reads "Any", not "Unknown"."""

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.choices = (("", ANY), ("true", _("Yes")), ("false", _("No")))


def _search(queryset: QuerySet, text: str, *, fields: tuple[str, ...], key_field: str) -> QuerySet:
    text = clean_text(text)
    if not text:
        return queryset
    query = Q()
    for field in fields:
        query |= Q(**{f"{field}__icontains": text})
    key = company_name_key(text)
    if key:
        query |= Q(**{f"{key_field}__contains": key})
    return queryset.filter(query)


class ContactFilter(BoundedFilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="filter_q")
    prefecture = django_filters.ChoiceFilter(
        label=_("Prefecture"),
        field_name="company__prefecture",
        choices=Prefecture.choices,
        empty_label=ANY,
    )
    region = django_filters.ChoiceFilter(
        label=_("Region"), field_name="company__region", choices=Region.choices, empty_label=ANY
    )
    industry = django_filters.ChoiceFilter(
        label=_("Industry"),
        field_name="company__industry",
        choices=Industry.choices,
        empty_label=ANY,
    )
    job_level = django_filters.ChoiceFilter(
        label=_("Job level"), choices=Contact.JobLevel.choices, empty_label=ANY
    )
    min_employees = django_filters.NumberFilter(
        label=_("Employees at least"), field_name="company__employee_count", lookup_expr="gte"
    )
    active_since = django_filters.DateFilter(
        label=_("Active since"), field_name="last_activity_at", lookup_expr="date__gte"
    )
    activity_kind = django_filters.ChoiceFilter(
        label=_("Has done"),
        choices=Activity.Kind.choices,
        method="filter_activity_kind",
        empty_label=ANY,
    )
    include_unsubscribed = django_filters.BooleanFilter(
        label=_("Include unsubscribed"), method="filter_unsubscribed", widget=AnyYesNo
    )

    class Meta:
        model = Contact
        fields = ["q", "prefecture", "region", "industry", "job_level", "min_employees"]

    def filter_q(self, queryset, name, value):
        return _search(
            queryset,
            value,
            fields=("name", "name_kana", "email", "title", "department", "company__name"),
            key_field="company__name_key",
        )

    def filter_activity_kind(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(
            id__in=Activity.objects.filter(kind=value, contact__isnull=False).values("contact_id")
        )

    def filter_unsubscribed(self, queryset, name, value):
        return queryset if value else queryset.filter(is_unsubscribed=False)


class CompanyFilter(BoundedFilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="filter_q")
    prefecture = django_filters.ChoiceFilter(
        label=_("Prefecture"), choices=Prefecture.choices, empty_label=ANY
    )
    industry = django_filters.ChoiceFilter(
        label=_("Industry"), choices=Industry.choices, empty_label=ANY
    )
    min_employees = django_filters.NumberFilter(
        label=_("Employees at least"), field_name="employee_count", lookup_expr="gte"
    )
    has_contacts = django_filters.BooleanFilter(
        label=_("Has contacts"), method="filter_has_contacts", widget=AnyYesNo
    )
    has_intent = django_filters.BooleanFilter(
        label=_("Has intent signals"), method="filter_has_intent", widget=AnyYesNo
    )

    class Meta:
        model = Company
        fields = ["q", "prefecture", "industry", "min_employees"]

    def filter_q(self, queryset, name, value):
        return _search(
            queryset,
            value,
            fields=("name", "name_kana", "domain", "corporate_number"),
            key_field="name_key",
        )

    def filter_has_contacts(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(contacts__isnull=not value).distinct()

    def filter_has_intent(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(intent_signals__isnull=not value).distinct()
