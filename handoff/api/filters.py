"""The queue's filters over the API (django-filter): a bad value is a 400 naming it."""

from __future__ import annotations

import django_filters
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.filtering import BoundedFilterSet
from handoff.models import OPEN_STAGES, Cycle
from handoff.selectors import sla_bucket, sla_soon
from handoff.services.sla import BREACHED, DUE_SOON, ON_TIME

QUEUE_STAGES_API = tuple(sorted(OPEN_STAGES))
SLA_STATES_API = (BREACHED, DUE_SOON, ON_TIME)
_USERNAME_MAX_LENGTH = 150


class QueueApiFilter(BoundedFilterSet):
    stage = django_filters.ChoiceFilter(
        label=_("Stage"), choices=[(s, s) for s in QUEUE_STAGES_API]
    )
    owner = django_filters.CharFilter(label=_("Owner"), method="filter_owner")
    sla_state = django_filters.ChoiceFilter(
        label=_("SLA"), choices=[(s, s) for s in SLA_STATES_API], method="filter_sla_state"
    )

    class Meta:
        model = Cycle
        fields = ["stage"]

    def filter_owner(self, queryset, name, value: str):
        # A longer name is nobody's: it matches nothing, as any unknown name does.
        return queryset.filter(owner__username=value[:_USERNAME_MAX_LENGTH])

    def filter_sla_state(self, queryset, name, value: str):
        return sla_bucket(queryset, value, now=timezone.now(), soon=sla_soon())
