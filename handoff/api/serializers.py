"""Shapes of the handoff API: queue items out, a call in (input and output kept apart)."""

from __future__ import annotations

from rest_framework import serializers

from handoff.models import Bant, BantStatus, Call, Stage
from handoff.services.sla import BREACHED, DUE_SOON, MET, ON_TIME

BANT_STATES = BantStatus.choices


class BantSummarySerializer(serializers.Serializer):
    budget = serializers.ChoiceField(choices=BANT_STATES)
    authority = serializers.ChoiceField(choices=BANT_STATES)
    need = serializers.ChoiceField(choices=BANT_STATES)
    timeframe = serializers.ChoiceField(choices=BANT_STATES)


class QueueItemSerializer(serializers.Serializer):
    id = serializers.IntegerField(
        help_text="The queue item (the lead's cycle): use it in the paths."
    )
    lead = serializers.IntegerField(help_text="The contact's id, or the company's for an account.")
    lead_type = serializers.ChoiceField(choices=["contact", "account"])
    email = serializers.CharField(allow_null=True)
    company = serializers.CharField(allow_null=True)
    stage = serializers.ChoiceField(choices=Stage.values)
    owner = serializers.CharField(allow_null=True, help_text="The inside sales rep (username).")
    field_owner = serializers.CharField(
        allow_null=True, help_text="The field sales rep, after handover."
    )
    mql_at = serializers.DateTimeField()
    sla_due_at = serializers.DateTimeField(
        allow_null=True,
        help_text="The first-touch deadline until the first touch, then the qualification one.",
    )
    first_touch_at = serializers.DateTimeField(allow_null=True)
    sla_state = serializers.ChoiceField(choices=[ON_TIME, DUE_SOON, BREACHED, MET])
    score_at_mql = serializers.FloatField(allow_null=True)
    bant = BantSummarySerializer()


class BudgetInSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=BANT_STATES, required=False)
    range = serializers.ChoiceField(
        choices=Bant.BudgetRange.values, required=False, allow_blank=True
    )
    amount_man = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=10_000_000
    )


class AuthorityInSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=BANT_STATES, required=False)
    role = serializers.ChoiceField(choices=Bant.Role.values, required=False)
    name = serializers.CharField(required=False, allow_blank=True, max_length=100)
    title = serializers.CharField(required=False, allow_blank=True, max_length=100)


class NeedInSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=BANT_STATES, required=False)
    pain_points = serializers.ListField(
        child=serializers.SlugField(max_length=40), required=False, max_length=20
    )
    notes = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class TimeframeInSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=BANT_STATES, required=False)
    kind = serializers.ChoiceField(choices=Bant.Timeframe.values, required=False)
    month = serializers.DateField(
        required=False, allow_null=True, input_formats=["%Y-%m", "%Y-%m-%d"],
        help_text="The target month, YYYY-MM.",
    )  # fmt: skip


class BantInSerializer(serializers.Serializer):
    budget = BudgetInSerializer(required=False)
    authority = AuthorityInSerializer(required=False)
    need = NeedInSerializer(required=False)
    timeframe = TimeframeInSerializer(required=False)


class CallInSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Call.Outcome.values)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    next_action_at = serializers.DateTimeField(required=False, allow_null=True)
    next_action_note = serializers.CharField(required=False, allow_blank=True, max_length=200)
    bant = BantInSerializer(required=False)


class CallOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    outcome = serializers.ChoiceField(choices=Call.Outcome.values)
    item = QueueItemSerializer()


class PromoteRefusedSerializer(serializers.Serializer):
    detail = serializers.CharField()
    missing = serializers.ListField(
        child=serializers.ChoiceField(choices=["budget", "authority", "need", "timeframe"])
    )
    needed = serializers.IntegerField(
        help_text="How many more BANT items must be confirmed besides."
    )
