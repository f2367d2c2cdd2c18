"""The leads and companies filters of ``leads``, extended with what scoring knows.

Filter and sort by score, fit and engagement; by band; and find the leads whose score
reaches "hot" but whose fit keeps them warm (the fit floor). The composing pages and
the CSV export use these, so a list and its export always agree.
"""

from __future__ import annotations

import django_filters
from django.db.models import F, QuerySet
from django.utils.translation import gettext_lazy as _

from leads.filters import ANY, AnyYesNo, CompanyFilter, ContactFilter
from scoring.models import Band
from scoring.services.jobs import active_version, definition_of

# Scores are DECIMAL(9, 2): a bound keeps a typed number a comparison, not an overflow.
_SCORE_BOUNDS = {"min_value": -1_000_000, "max_value": 1_000_000}


def _score_filter(field: str, label) -> django_filters.NumberFilter:
    return django_filters.NumberFilter(
        label=label, field_name=field, lookup_expr="gte", **_SCORE_BOUNDS
    )


def _ordered(queryset: QuerySet, field: str, descending: bool) -> QuerySet:
    """Unscored rows last either way; ties by id, so pages never overlap."""
    column = F(field)
    if descending:
        return queryset.order_by(column.desc(nulls_last=True), "-id")
    return queryset.order_by(column.asc(nulls_last=True), "id")


LEAD_SORTS = {
    "-score": ("score__total", True, _("Score, highest first")),
    "score": ("score__total", False, _("Score, lowest first")),
    "-fit": ("score__fit", True, _("Fit, highest first")),
    "-engagement": ("score__engagement", True, _("Engagement, highest first")),
}
ACCOUNT_SORTS = {
    "-score": ("account_score__total", True, _("Account score, highest first")),
    "score": ("account_score__total", False, _("Account score, lowest first")),
    "-fit": ("account_score__fit", True, _("Fit, highest first")),
    "-engagement": ("account_score__engagement", True, _("Engagement, highest first")),
}


def _sort_filter(sorts: dict, *, empty_label) -> django_filters.ChoiceFilter:
    return django_filters.ChoiceFilter(
        label=_("Sort by"),
        choices=[(key, label) for key, (_f, _d, label) in sorts.items()],
        empty_label=empty_label,
        method="filter_sort",
    )


def held_by_fit_floor(queryset: QuerySet, *, prefix: str) -> QuerySet:
    """Rows whose total reaches the active hot threshold but that are not hot.

    Under one version the only way there is a fit under the floor; without an
    active version (or a floor) nothing is held back. A lead an MQL trigger made
    hot is hot, so not held back, whatever its fit.
    """
    version = active_version()
    if version is None:
        return queryset.none()
    thresholds = definition_of(version).thresholds
    if thresholds.fit_floor is None:
        return queryset.none()
    return queryset.filter(
        **{
            f"{prefix}__version": version,
            f"{prefix}__total__gte": thresholds.hot,
            f"{prefix}__fit__lt": thresholds.fit_floor,
        }
    ).exclude(**{f"{prefix}__band": "hot"})


class LeadScoreFilter(ContactFilter):
    band = django_filters.ChoiceFilter(
        label=_("Band"), field_name="score__band", choices=Band.choices, empty_label=ANY
    )
    min_score = _score_filter("score__total", _("Score at least"))
    min_fit = _score_filter("score__fit", _("Fit at least"))
    min_engagement = _score_filter("score__engagement", _("Engagement at least"))
    held_back = django_filters.BooleanFilter(
        label=_("Held back by the fit floor"), method="filter_held_back", widget=AnyYesNo
    )
    sort = _sort_filter(LEAD_SORTS, empty_label=_("Recent activity"))

    def filter_held_back(self, queryset, name, value):
        if value is None:
            return queryset
        held = held_by_fit_floor(queryset, prefix="score")
        return held if value else queryset.exclude(pk__in=held.values("pk"))

    def filter_sort(self, queryset, name, value):
        if value not in LEAD_SORTS:
            return queryset
        field, descending, _label = LEAD_SORTS[value]
        return _ordered(queryset, field, descending)


class AccountScoreFilter(CompanyFilter):
    band = django_filters.ChoiceFilter(
        label=_("Account band"),
        field_name="account_score__band",
        choices=Band.choices,
        empty_label=ANY,
    )
    min_score = _score_filter("account_score__total", _("Account score at least"))
    sort = _sort_filter(ACCOUNT_SORTS, empty_label=_("Recent activity"))

    def filter_sort(self, queryset, name, value):
        if value not in ACCOUNT_SORTS:
            return queryset
        field, descending, _label = ACCOUNT_SORTS[value]
        return _ordered(queryset, field, descending)
