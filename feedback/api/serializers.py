"""The outcomes endpoint's input and output (separate, as everywhere in the API)."""

from __future__ import annotations

from rest_framework import serializers

from feedback.models import Opportunity
from leads.api.serializers import EmailAddressField, IdentifierField, StrictIntegerField

# Named in settings.SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]: "status" is a field name
# elsewhere in the API too.
OPPORTUNITY_STATUSES = Opportunity.Status.choices


class OutcomeInSerializer(serializers.Serializer):
    crm_id = IdentifierField(max_length=128, help_text="The CRM's id of the deal.")
    status = serializers.ChoiceField(choices=OPPORTUNITY_STATUSES)
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=0, min_value=0, required=False, allow_null=True,
        help_text="In yen.",
    )  # fmt: skip
    created_on = serializers.DateField(required=False, allow_null=True)
    closed_on = serializers.DateField(required=False, allow_null=True)
    email = EmailAddressField(required=False)
    contact_id = StrictIntegerField(min_value=1, required=False, allow_null=True)
    crm_lead_id = IdentifierField(max_length=128, required=False, allow_blank=True)

    def validate(self, attrs):
        if not (attrs.get("email") or attrs.get("contact_id") or attrs.get("crm_lead_id")):
            raise serializers.ValidationError(
                {"email": ["Name the lead by email, contact_id or crm_lead_id."]}
            )
        return attrs


class OutcomeOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    crm_id = serializers.CharField()
    crm_lead_id = serializers.CharField()
    contact_id = serializers.IntegerField()
    cycle_id = serializers.IntegerField(allow_null=True)
    cycle_stage = serializers.CharField(allow_null=True)
    status = serializers.ChoiceField(choices=OPPORTUNITY_STATUSES)
    amount = serializers.DecimalField(max_digits=14, decimal_places=0, allow_null=True)
    created_on = serializers.DateField()
    closed_on = serializers.DateField(allow_null=True)
    created = serializers.BooleanField(help_text="True when this call created the deal.")
    changed = serializers.BooleanField(help_text="False when the call repeated what was known.")
