"""FilterSets whose numbers and times the database can always compare.

A filter value the form accepts but the database cannot bind was a 500:
``company=99999999999999999999`` (SQLite integers are 64-bit), ``company=-1e20``
(a Decimal where an id goes), ``updated_since=0001-01-01T00:00:00+14:00`` or
``observed_before=9999-12-31T23:00:00-01:00`` (their UTC time, which the database
compares, falls outside years 1-9999). ``BoundedFilterSet`` bounds every number and
date-time filter of every FilterSet built on it, declared or generated, so such a
value is a 400 naming the parameter (DRF's DjangoFilterBackend, the pages' invalid
filter form) however the filter was written:

* a number filter on an integer column (ids, counts) takes whole numbers only;
* every number filter is bounded to signed 64 bits unless it states its own bounds;
* a date-time filter refuses a time whose UTC equivalent is out of range.

Infrastructure, like the rest of ``config``: it knows no app.
"""

from __future__ import annotations

from datetime import UTC

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField
from django_filters.utils import get_model_field

INT64_MAX = 2**63 - 1
INT64_MIN = -INT64_MAX  # symmetric: -2**63 itself gains nothing and is a corner case


def _in_utc_range(value):
    """``value`` if the database can compare it (in UTC); ValidationError otherwise."""
    if value is not None:
        try:
            value.astimezone(UTC)
        except OverflowError:
            raise ValidationError(_("The date is out of range."), code="overflow") from None
    return value


class BoundedDateTimeField(forms.DateTimeField):
    def to_python(self, value):
        try:
            parsed = super().to_python(value)
        except OverflowError:  # a naive time made aware past year 1 or 9999
            raise ValidationError(_("The date is out of range."), code="overflow") from None
        return _in_utc_range(parsed)


class BoundedIsoDateTimeField(IsoDateTimeField):
    def to_python(self, value):
        try:
            parsed = super().to_python(value)
        except OverflowError:
            raise ValidationError(_("The date is out of range."), code="overflow") from None
        return _in_utc_range(parsed)


def _is_integer_column(model, field_name: str | None) -> bool:
    if model is None or not field_name:
        return False
    field = get_model_field(model, field_name)
    if isinstance(field, models.ForeignKey):
        field = field.target_field
    return isinstance(field, models.IntegerField | models.AutoField)


def bound_filter(model, filter_: django_filters.Filter) -> None:
    """Make ``filter_`` refuse values the database cannot compare (see the module)."""
    if isinstance(filter_, django_filters.NumberFilter):
        lookup = filter_.lookup_expr or "exact"
        plain = lookup in {"exact", "gt", "gte", "lt", "lte", "in", "range"}
        if plain and not filter_.method and _is_integer_column(model, filter_.field_name):
            filter_.field_class = forms.IntegerField
        filter_.extra.setdefault("min_value", INT64_MIN)
        filter_.extra.setdefault("max_value", INT64_MAX)
    elif isinstance(filter_, django_filters.IsoDateTimeFilter):
        filter_.field_class = BoundedIsoDateTimeField
    elif isinstance(filter_, django_filters.DateTimeFilter):
        filter_.field_class = BoundedDateTimeField


class BoundedFilterSet(django_filters.FilterSet):
    """A FilterSet whose number and date-time filters are bounded (see the module)."""

    @classmethod
    def get_filters(cls):
        filters = super().get_filters()
        for filter_ in filters.values():
            bound_filter(cls._meta.model, filter_)
        return filters
