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


class ReviewRunForm(forms.Form):
    """The period of an on-demand review (the team's days, both inclusive)."""

    period_start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(label=_("Until"), widget=forms.DateInput(attrs={"type": "date"}))


class ReviewSettingsForm(forms.Form):
    acceptance_target = forms.DecimalField(
        label=_("Acceptance target"), min_value=0.05, max_value=0.99, decimal_places=2,
        help_text=_("The share of MQLs sales should accept at the hot threshold (0.05–0.99)."),
    )  # fmt: skip
    min_decided = forms.IntegerField(
        label=_("Fewest verdicts to act on"), min_value=1,
        help_text=_("Below this many judged MQLs the review proposes nothing."),
    )  # fmt: skip
    calls_per_rep_week = forms.IntegerField(
        label=_("New leads a rep can take a week"), min_value=1, max_value=1000
    )


class ReviewScheduleForm(forms.Form):
    """When beat runs the review: a crontab in the team's time zone."""

    minute = forms.CharField(label=_("Minute"), max_length=60, initial="0")
    hour = forms.CharField(label=_("Hour"), max_length=60, initial="6")
    day_of_month = forms.CharField(label=_("Day of month"), max_length=60, initial="1")
    month_of_year = forms.CharField(label=_("Month"), max_length=60, initial="*")
    day_of_week = forms.CharField(label=_("Day of week"), max_length=60, initial="*")
    enabled = forms.BooleanField(label=_("Run on schedule"), required=False, initial=True)
