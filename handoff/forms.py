"""Forms of the handoff pages: the BANT call, raising a lead, reassigning, the team's routing."""

from __future__ import annotations

from datetime import datetime, time

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from handoff.models import (
    Absence,
    AssignmentRule,
    Bant,
    BantStatus,
    Call,
    PainPoint,
    Pool,
    RepProfile,
)
from handoff.services.calls import CallInput

_SELECT = {"class": "form-select form-select-sm"}
_INPUT = {"class": "form-control form-control-sm"}


def _status_field(label) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        choices=BantStatus.choices,
        widget=forms.RadioSelect(attrs={"class": "btn-check"}),
        initial=BantStatus.UNKNOWN,
    )


class PainPointField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: PainPoint) -> str:
        return obj.label(translation.get_language() or "ja")


class CallForm(forms.Form):
    """A call and what it told about BANT. Statuses start from what is known."""

    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=Call.Outcome.choices, widget=forms.Select(attrs=_SELECT)
    )
    budget_status = _status_field(_("Budget"))
    budget_range = forms.ChoiceField(
        label=_("Budget range"),
        choices=[("", "—"), *Bant.BudgetRange.choices],
        required=False,
        widget=forms.Select(attrs=_SELECT),
    )
    budget_amount_man = forms.IntegerField(
        label=_("Budget (万円)"),
        required=False,
        min_value=0,
        max_value=10_000_000,
        widget=forms.NumberInput(attrs={**_INPUT, "inputmode": "numeric"}),
    )
    authority_status = _status_field(_("Authority"))
    authority_role = forms.ChoiceField(
        label=_("Their role in the decision"),
        choices=Bant.Role.choices,
        widget=forms.Select(attrs=_SELECT),
    )
    decision_maker_name = forms.CharField(
        label=_("Decision maker"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs=_INPUT),
    )
    decision_maker_title = forms.CharField(
        label=_("Their title"), required=False, max_length=100, widget=forms.TextInput(attrs=_INPUT)
    )
    need_status = _status_field(_("Need"))
    pain_points = PainPointField(
        label=_("Pain points"),
        queryset=PainPoint.objects.filter(is_active=True),
        required=False,
        to_field_name="code",
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    need_notes = forms.CharField(
        label=_("Need notes"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={**_INPUT, "rows": 2}),
    )
    timeframe_status = _status_field(_("Timeframe"))
    timeframe_kind = forms.ChoiceField(
        label=_("By when"), choices=Bant.Timeframe.choices, widget=forms.Select(attrs=_SELECT)
    )
    timeframe_month = forms.DateField(
        label=_("Target month"),
        required=False,
        input_formats=["%Y-%m", "%Y-%m-%d"],
        widget=forms.DateInput(attrs={**_INPUT, "type": "month"}, format="%Y-%m"),
    )
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={**_INPUT, "rows": 3}),
    )
    next_action_at = forms.DateField(
        label=_("Next action on"),
        required=False,
        widget=forms.DateInput(attrs={**_INPUT, "type": "date"}, format="%Y-%m-%d"),
    )
    next_action_note = forms.CharField(
        label=_("Next action"), required=False, max_length=200, widget=forms.TextInput(attrs=_INPUT)
    )

    @classmethod
    def for_bant(cls, bant: Bant, **kwargs) -> CallForm:
        """The form, its BANT fields starting from the cycle's record."""
        initial = {
            name: getattr(bant, name)
            for name in (
                "budget_status", "budget_range", "budget_amount_man", "authority_status",
                "authority_role", "decision_maker_name", "decision_maker_title", "need_status",
                "need_notes", "timeframe_status", "timeframe_kind", "timeframe_month",
            )
        }  # fmt: skip
        if bant.pk:
            initial["pain_points"] = list(bant.pain_points.values_list("code", flat=True))
        return cls(initial=initial, **kwargs)

    def clean_timeframe_month(self):
        value = self.cleaned_data.get("timeframe_month")
        return value.replace(day=1) if value else None

    def to_input(self) -> CallInput:
        data = self.cleaned_data
        next_day = data.get("next_action_at")
        next_at = timezone.make_aware(datetime.combine(next_day, time(9))) if next_day else None
        return CallInput(
            outcome=data["outcome"],
            notes=data.get("notes", ""),
            next_action_at=next_at,
            next_action_note=data.get("next_action_note", ""),
            budget_status=data["budget_status"],
            budget_range=data.get("budget_range") or "",
            budget_amount_man=data.get("budget_amount_man"),
            authority_status=data["authority_status"],
            authority_role=data["authority_role"],
            decision_maker_name=data.get("decision_maker_name", ""),
            decision_maker_title=data.get("decision_maker_title", ""),
            need_status=data["need_status"],
            pain_points=tuple(p.code for p in data.get("pain_points") or ()),
            need_notes=data.get("need_notes", ""),
            timeframe_status=data["timeframe_status"],
            timeframe_kind=data["timeframe_kind"],
            timeframe_month=data.get("timeframe_month"),
        )


class RaiseForm(forms.Form):
    reason = forms.CharField(
        label=_("Why call this lead now?"),
        max_length=1000,
        widget=forms.Textarea(attrs={**_INPUT, "rows": 2}),
        help_text=_("For example: met the decision maker at an event. Whatever the score says."),
    )


def _rep_label(user) -> str:
    return user.display_name


class ReassignForm(forms.Form):
    user = forms.ModelChoiceField(
        label=_("Give to"),
        queryset=get_user_model().objects.none(),
        widget=forms.Select(attrs=_SELECT),
    )

    def __init__(self, *args, pool: str | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        reps = RepProfile.objects.filter(user__is_active=True)
        if pool:
            reps = reps.filter(pool=pool)
        self.fields["user"].queryset = (
            get_user_model().objects.filter(rep_profile__in=reps).order_by("username")
        )
        self.fields["user"].label_from_instance = _rep_label


class RuleForm(forms.ModelForm):
    class Meta:
        model = AssignmentRule
        fields = [
            "order", "pool", "prefecture", "region", "industry", "min_employees",
            "max_employees", "assignee", "is_active",
        ]  # fmt: skip
        widgets = {
            name: forms.Select(attrs=_SELECT)
            for name in ("pool", "prefecture", "region", "industry", "assignee")
        } | {
            name: forms.NumberInput(attrs=_INPUT)
            for name in ("order", "min_employees", "max_employees")
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = (
            get_user_model()
            .objects.filter(rep_profile__isnull=False, is_active=True)
            .order_by("username")
        )
        self.fields["assignee"].label_from_instance = _rep_label

    def clean(self):
        data = super().clean()
        low, high = data.get("min_employees"), data.get("max_employees")
        if low is not None and high is not None and low > high:
            self.add_error("max_employees", _("Must not be below the minimum."))
        assignee, pool = data.get("assignee"), data.get("pool")
        if assignee and pool and not RepProfile.objects.filter(user=assignee, pool=pool).exists():
            self.add_error("assignee", _("This person does not work in that pool."))
        if not any(
            data.get(f) not in (None, "")
            for f in ("prefecture", "region", "industry", "min_employees", "max_employees")
        ):
            self.add_error(None, _("Give the rule at least one condition."))
        return data


class RepForm(forms.ModelForm):
    class Meta:
        model = RepProfile
        fields = ["pool", "capacity", "is_active"]
        widgets = {"pool": forms.Select(attrs=_SELECT), "capacity": forms.NumberInput(attrs=_INPUT)}


class AbsenceForm(forms.ModelForm):
    class Meta:
        model = Absence
        fields = ["user", "day"]
        widgets = {
            "user": forms.Select(attrs=_SELECT),
            "day": forms.DateInput(attrs={**_INPUT, "type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = (
            get_user_model().objects.filter(rep_profile__isnull=False).order_by("username")
        )
        self.fields["user"].label_from_instance = _rep_label


POOL_CHOICES = Pool.choices
