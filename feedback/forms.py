"""The verdict and outcome forms of the workspace (the services validate again)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from feedback.models import Opportunity, Verdict


class VerdictForm(forms.Form):
    decision = forms.ChoiceField(choices=Verdict.Decision.choices)
    reason = forms.CharField(max_length=40, required=False, label=_("Reason"))
    note = forms.CharField(
        max_length=2000, required=False, widget=forms.Textarea, label=_("Note (optional)")
    )
    judgement = forms.ChoiceField(
        choices=Verdict.Judgement.choices, required=False, label=_("The score was")
    )

    def clean(self):
        data = super().clean()
        if data.get("decision") == Verdict.Decision.REJECTED and not data.get("reason"):
            self.add_error("reason", _("Say why you reject this lead."))
        return data


class OutcomeForm(forms.Form):
    crm_id = forms.CharField(max_length=128, label=_("Deal id in the CRM"))
    status = forms.ChoiceField(choices=Opportunity.Status.choices, label=_("Status"))
    amount = forms.DecimalField(
        max_digits=14, decimal_places=0, min_value=0, required=False, label=_("Amount (yen)")
    )
    created_on = forms.DateField(
        required=False, label=_("Created on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    closed_on = forms.DateField(
        required=False, label=_("Won or lost on"), widget=forms.DateInput(attrs={"type": "date"})
    )
