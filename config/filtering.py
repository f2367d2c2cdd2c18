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
* a date-time filter refuses a time whose UTC equivalent is out of range;
* a yes/no filter takes true, false, 1 or 0 (any case); anything else is an error, not
  the filter silently left out.

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
from drf_spectacular.drainage import has_override, set_override

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


_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


class StrictBooleanWidgetMixin:
    """A yes/no widget that hands the form field a value it does not know, instead of
    None: ``has_intent=maybe`` is then a 400, not the filter silently left out."""

    def value_from_datadict(self, data, files, name):
        value = data.get(name)
        if value is None or value == "" or isinstance(value, bool):
            return value if isinstance(value, bool) else None
        return _BOOLEANS.get(str(value).lower(), value)


class StrictNullBooleanField(forms.NullBooleanField):
    def to_python(self, value):
        if value is None or isinstance(value, bool):
            return value
        raise ValidationError(_("Give true or false."), code="invalid")

    def validate(self, value):
        pass


def _strict_widget(widget):
    widget_class = widget if isinstance(widget, type) else type(widget)
    if issubclass(widget_class, StrictBooleanWidgetMixin):
        return widget
    return type(f"Strict{widget_class.__name__}", (StrictBooleanWidgetMixin, widget_class), {})


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
        is_integer = plain and not filter_.method and _is_integer_column(model, filter_.field_name)
        if is_integer:
            filter_.field_class = forms.IntegerField
        low = filter_.extra.setdefault("min_value", INT64_MIN)
        high = filter_.extra.setdefault("max_value", INT64_MAX)
        if not has_override(filter_, "field"):
            # The schema states what the form takes (drf-spectacular would say "number"
            # for an id filtered by its column, and give no bounds).
            schema = {"type": "integer", "format": "int64"} if is_integer else {"type": "number"}
            set_override(
                filter_,
                "field",
                {**schema, "minimum": low, "maximum": high, "description": filter_.label},
            )
    elif isinstance(filter_, django_filters.BooleanFilter):
        filter_.field_class = StrictNullBooleanField
        widget = filter_.extra.get("widget") or django_filters.widgets.BooleanWidget
        filter_.extra["widget"] = _strict_widget(widget)
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
