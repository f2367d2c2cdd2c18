"""Forms of the definition pages: the draft editor, decisions, the compare picker.

The editor turns its fields into the spec JSON (``scoring.spec``) and asks
``definition_from_spec`` whether the engine accepts it, so that a problem is
shown next to the rule and field it concerns; ``draft_update`` checks again
when it writes. Checks here only place errors: what a valid definition is
lives in the engine.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from leads.models import Activity
from scoring.engine import ACTIVITY_KINDS, ATTRIBUTES, Op
from scoring.models import Approval
from scoring.spec import SPEC_FORMAT, SpecError, definition_from_spec
from scoring.views.display import ATTRIBUTE_LABELS, BANT_LABELS, BANT_ORDER, OP_LABELS

_SMALL = {"class": "form-control form-control-sm"}
_SMALL_SELECT = {"class": "form-select form-select-sm"}

# Which operators make sense for an attribute of each type (the engine refuses the rest).
OPS_FOR_TYPE: Mapping[type, tuple[Op, ...]] = {
    str: (Op.EQ, Op.IN, Op.NOT_IN, Op.CONTAINS_ANY, Op.ENDS_WITH_ANY),
    int: (Op.GTE, Op.LTE, Op.BETWEEN, Op.EQ),
    bool: (Op.IS_TRUE, Op.IS_FALSE),
}
_LIST_OPS = (Op.IN, Op.NOT_IN, Op.CONTAINS_ANY, Op.ENDS_WITH_ANY)
_SEPARATORS = re.compile(r"[,、，\n]+")
_RANGE_SEPARATORS = re.compile(r"[,、，~〜～–]+")
_WHERE = re.compile(r"^(attributes|behaviour|intents)\[(\d+)\](?:\..+)?$")
_RULE_PREFIX = re.compile(r"^rule '.*?': ")


def _number_field(label, *, required: bool = True, **kwargs) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=required,
        max_digits=11,
        decimal_places=2,
        widget=forms.NumberInput(attrs={**_SMALL, "step": "any"}),
        **kwargs,
    )


def _spec_number(value: Decimal | None) -> int | float | None:
    """A form's Decimal as JSON: 5 stays 5, 2.5 stays 2.5."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def _initial_number(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def split_list(text: str) -> list[str]:
    """ "a, b、c" → ["a", "b", "c"] (commas, Japanese commas or new lines)."""
    return [item.strip() for item in _SEPARATORS.split(text or "") if item.strip()]


def _parse_number(text: str) -> int | float:
    try:
        value = Decimal(unicodedata.normalize("NFKC", text).strip().replace("_", ""))
    except InvalidOperation:
        raise ValidationError(_("Enter a number."), code="number") from None
    if not value.is_finite():
        raise ValidationError(_("Enter a number."), code="number")
    return _spec_number(value)


def _parse_bool(text: str) -> bool:
    key = unicodedata.normalize("NFKC", text).strip().casefold()
    if key in {"yes", "true", "1", "はい", "y"}:
        return True
    if key in {"no", "false", "0", "いいえ", "n"}:
        return False
    raise ValidationError(_("Enter yes or no."), code="bool")


def attribute_value_parse(attribute: str, op: str, text: str) -> Any:
    """The JSON value of an attribute rule typed as text; ValidationError if unreadable."""
    expected = ATTRIBUTES[attribute]
    if op in (Op.IS_TRUE, Op.IS_FALSE):
        return None
    if op in _LIST_OPS:
        items = split_list(text)
        if not items:
            raise ValidationError(_("Give at least one value, separated by commas."))
        return items
    if op in (Op.GTE, Op.LTE):
        return _parse_number(text)
    if op == Op.BETWEEN:
        parts = [p for p in _RANGE_SEPARATORS.split(text or "") if p.strip()]
        if len(parts) != 2:
            raise ValidationError(_("Give two numbers: the lowest and the highest, e.g. 100, 999."))
        low, high = (_parse_number(p) for p in parts)
        if low > high:
            raise ValidationError(_("The first number must not be larger than the second."))
        return [low, high]
    # Op.EQ
    if expected is int:
        return _parse_number(text)
    if expected is bool:
        return _parse_bool(text)
    if not text.strip():
        raise ValidationError(_("Enter the value to compare with."))
    return text.strip()


def attribute_value_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(str(_initial_number(v)) for v in value)
    return str(_initial_number(value))


# --- Version, thresholds, BANT ------------------------------------------------------


class VersionMetaForm(forms.Form):
    title = forms.CharField(label=pgettext_lazy("definition version", "Title"), max_length=200)
    # The draft's updated_at when the editor opened: a save over someone
    # else's newer one is refused (see draft_update).
    opened_at = forms.CharField(widget=forms.HiddenInput, required=False)
    change_note = forms.CharField(
        label=_("What changed and why"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Needed before you submit: the approvers read it first."),
    )


class ThresholdsForm(forms.Form):
    warm = _number_field(_("Warm from"))
    hot = _number_field(_("Hot (MQL) from"))
    fit_floor = _number_field(
        _("Fit floor"),
        required=False,
        help_text=_(
            "A lead is hot only if its fit sub-score reaches this; otherwise it stays warm."
        ),
    )

    def clean(self):
        data = super().clean()
        warm, hot = data.get("warm"), data.get("hot")
        if warm is not None and hot is not None and warm > hot:
            self.add_error("hot", _("Hot must be at least the warm threshold."))
        return data

    def to_spec(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "warm": _spec_number(data["warm"]),
            "hot": _spec_number(data["hot"]),
            "fit_floor": _spec_number(data.get("fit_floor")),
        }


class BantForm(forms.Form):
    required = forms.MultipleChoiceField(
        label=_("Must be confirmed"),
        required=False,
        choices=[(item, BANT_LABELS[item]) for item in BANT_ORDER],
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    min_count = forms.IntegerField(
        label=_("At least this many of the four confirmed"),
        min_value=0,
        max_value=len(BANT_ORDER),
        widget=forms.NumberInput(attrs={"class": "form-control input-narrow"}),
    )

    def to_spec(self) -> dict[str, Any]:
        return {
            "required": sorted(self.cleaned_data["required"]),
            "min_count": self.cleaned_data["min_count"],
        }


# --- Rules ---------------------------------------------------------------------------


def _label_initial(label: Any) -> dict[str, str]:
    """The two label inputs for a stored label ({language: text}, or one text for both)."""
    if isinstance(label, Mapping):
        return {"label_ja": label.get("ja", ""), "label_en": label.get("en", "")}
    return {"label_ja": label or "", "label_en": label or ""}


class RuleForm(forms.Form):
    """Fields every rule has; subclasses add theirs and build the rule's JSON."""

    key = forms.CharField(
        label=_("Key"),
        max_length=60,
        validators=[validate_slug],
        widget=forms.TextInput(attrs={**_SMALL, "class": _SMALL["class"] + " font-monospace"}),
        help_text=_("Letters, digits, _ and -; unique. Score explanations refer to it."),
    )
    # The label in each language; the pages show the viewer's (or the other one).
    label_ja = forms.CharField(
        label=_("Label (Japanese)"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={**_SMALL, "lang": "ja", "placeholder": "日本語"}),
    )
    label_en = forms.CharField(
        label=_("Label (English)"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={**_SMALL, "lang": "en", "placeholder": "English"}),
    )
    points = _number_field(_("Points"))

    def clean(self):
        data = super().clean()
        points, cap = data.get("points"), data.get("cap")
        has_cap = "cap" in self.fields and points is not None and cap is not None
        if has_cap and (points == 0 or cap == 0 or (cap > 0) != (points > 0)):
            self.add_error(
                "cap",
                _("Give the cap the sign of the points."),
            )
        return data

    def _common(self) -> dict[str, Any]:
        data = self.cleaned_data
        label = {
            language: text
            for language, text in (("ja", data.get("label_ja")), ("en", data.get("label_en")))
            if text and text.strip()
        }
        return {
            "key": data["key"],
            "label": label or data["key"],
            "points": _spec_number(data["points"]),
        }

    def add_spec_error(self, message: str) -> None:
        """Place an engine message on the field it names, else on the rule."""
        text = _RULE_PREFIX.sub("", message)
        found = [
            (m.start(), name)
            for name in self.fields
            if name != "DELETE" and (m := re.search(rf"\b{name}\b", text))
        ]
        self.add_error(min(found)[1] if found else None, text)


class _DecayingRuleForm(RuleForm):
    cap = _number_field(
        _("Cap"), required=False, help_text=_("The most (or, if negative, least) in total.")
    )
    half_life_days = _number_field(
        _("Half-life (days)"),
        required=False,
        min_value=Decimal("0.01"),
        help_text=_("Points halve every this many days."),
    )
    window_days = forms.IntegerField(
        label=_("Window (days)"),
        required=False,
        min_value=1,
        widget=forms.NumberInput(attrs=_SMALL),
        help_text=_("Only activity this recent counts."),
    )

    def _decay(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "cap": _spec_number(data.get("cap")),
            "half_life_days": _spec_number(data.get("half_life_days")),
            "window_days": data.get("window_days"),
        }

    @staticmethod
    def _decay_initial(rule: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "cap": _initial_number(rule.get("cap")),
            "half_life_days": _initial_number(rule.get("half_life_days")),
            "window_days": rule.get("window_days"),
        }


def _rule_language_initial(rule: Mapping[str, Any], keys: tuple[str, ...]) -> str:
    kept = {k: rule[k] for k in keys if k in rule}
    return json.dumps(kept, ensure_ascii=False, sort_keys=True) if kept else ""


def _rule_language_clean(text: str | None, keys: tuple[str, ...], unreadable: str) -> dict:
    """The rule-language keys a hidden field carried (the spec validates their values)."""
    text = (text or "").strip()
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise ValidationError(unreadable)
    return {k: value[k] for k in keys if k in value}


def _attribute_choices():
    return [(name, ATTRIBUTE_LABELS[name]) for name in ATTRIBUTES]


class AttributeRuleForm(RuleForm):
    attribute = forms.ChoiceField(
        label=_("Attribute"), choices=_attribute_choices, widget=forms.Select(attrs=_SMALL_SELECT)
    )
    op = forms.ChoiceField(
        label=_("Operator"),
        choices=[(op.value, OP_LABELS[op]) for op in Op],
        widget=forms.Select(attrs=_SMALL_SELECT),
    )
    value = forms.CharField(
        label=_("Value"),
        required=False,
        max_length=4000,
        widget=forms.TextInput(attrs=_SMALL),
        help_text=_(
            "Lists: separate with commas. Between: lowest, highest. Codes for industry etc."
        ),
    )

    # A rule's extra ANDed conditions (all_of) have no inputs here yet (issue 13's
    # rule builder adds them): carried through as stored, as behaviour rules'
    # conditions are, so editing any other field keeps them. The spec checks them.
    rule_language = forms.CharField(required=False, widget=forms.HiddenInput)

    _RULE_LANGUAGE_KEYS = ("all_of",)

    field_order = ["key", "label_ja", "label_en", "attribute", "op", "value", "points"]

    def clean_rule_language(self) -> dict[str, Any]:
        return _rule_language_clean(
            self.cleaned_data.get("rule_language"),
            self._RULE_LANGUAGE_KEYS,
            gettext("The rule's extra conditions could not be read; reload the editor."),
        )

    def clean(self):
        data = super().clean()
        attribute, op = data.get("attribute"), data.get("op")
        if not attribute or not op:
            return data
        expected = ATTRIBUTES[attribute]
        if Op(op) not in OPS_FOR_TYPE[expected]:
            allowed = ", ".join(str(OP_LABELS[o]) for o in OPS_FOR_TYPE[expected])
            self.add_error(
                "op",
                gettext("Not for this attribute; use one of: %(ops)s.") % {"ops": allowed},
            )
            return data
        try:
            data["parsed_value"] = attribute_value_parse(attribute, op, data.get("value", ""))
        except ValidationError as exc:
            self.add_error("value", exc)
        return data

    def to_spec(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            **self._common(),
            "attribute": data["attribute"],
            "op": data["op"],
            "value": data.get("parsed_value"),
            **(data.get("rule_language") or {}),
        }

    @classmethod
    def initial_from(cls, rule: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "key": rule["key"],
            **_label_initial(rule.get("label")),
            "attribute": rule["attribute"],
            "op": rule["op"],
            "value": attribute_value_text(rule.get("value")),
            "points": _initial_number(rule["points"]),
            "rule_language": _rule_language_initial(rule, cls._RULE_LANGUAGE_KEYS),
        }


def _kind_choices():
    return [(value, label) for value, label in Activity.Kind.choices if value in ACTIVITY_KINDS]


class BehaviourRuleForm(_DecayingRuleForm):
    kinds = forms.MultipleChoiceField(
        label=_("Activity kinds"),
        choices=_kind_choices,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    url_contains = forms.CharField(
        label=_("URL contains"),
        required=False,
        max_length=500,
        widget=forms.TextInput(attrs=_SMALL),
    )
    content_contains = forms.CharField(
        label=_("Content title contains"),
        required=False,
        max_length=500,
        widget=forms.TextInput(attrs=_SMALL),
    )
    campaign = forms.CharField(
        label=_("Campaign"), required=False, max_length=200, widget=forms.TextInput(attrs=_SMALL)
    )
    # Property conditions and the MQL trigger have no inputs here yet (issue 13's
    # rule builder adds them): carried through as stored, so that editing any
    # other field of such a rule keeps them. The spec validates them on save.
    rule_language = forms.CharField(required=False, widget=forms.HiddenInput)

    _RULE_LANGUAGE_KEYS = ("conditions", "trigger")

    def clean_rule_language(self) -> dict[str, Any]:
        return _rule_language_clean(
            self.cleaned_data.get("rule_language"),
            self._RULE_LANGUAGE_KEYS,
            gettext("The rule's conditions and trigger could not be read; reload the editor."),
        )

    def to_spec(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            **self._common(),
            "kinds": sorted(data["kinds"]),
            "url_contains": data.get("url_contains", "").strip(),
            "content_contains": data.get("content_contains", "").strip(),
            "campaign": data.get("campaign", "").strip(),
            **self._decay(),
            **(data.get("rule_language") or {}),
        }

    @classmethod
    def initial_from(cls, rule: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "key": rule["key"],
            **_label_initial(rule.get("label")),
            "kinds": list(rule.get("kinds", [])),
            "url_contains": rule.get("url_contains", ""),
            "content_contains": rule.get("content_contains", ""),
            "campaign": rule.get("campaign", ""),
            "points": _initial_number(rule["points"]),
            **cls._decay_initial(rule),
            "rule_language": _rule_language_initial(rule, cls._RULE_LANGUAGE_KEYS),
        }


class IntentRuleForm(_DecayingRuleForm):
    topics = forms.CharField(
        label=_("Topics"),
        required=False,
        max_length=2000,
        widget=forms.TextInput(attrs=_SMALL),
        help_text=_("Separate with commas; leave empty for any topic."),
    )
    min_strength = forms.IntegerField(
        label=_("Minimum strength"),
        min_value=0,
        max_value=100,
        initial=0,
        widget=forms.NumberInput(attrs=_SMALL),
    )

    def to_spec(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            **self._common(),
            "topics": sorted(set(split_list(data.get("topics", "")))),
            "min_strength": data["min_strength"],
            **self._decay(),
        }

    @classmethod
    def initial_from(cls, rule: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "key": rule["key"],
            **_label_initial(rule.get("label")),
            "topics": ", ".join(rule.get("topics", [])),
            "min_strength": rule.get("min_strength", 0),
            "points": _initial_number(rule["points"]),
            **cls._decay_initial(rule),
        }


RULE_FORMS: Mapping[str, type[RuleForm]] = {
    "attributes": AttributeRuleForm,
    "behaviour": BehaviourRuleForm,
    "intents": IntentRuleForm,
}
FORMSETS = {
    category: forms.formset_factory(form, extra=0, can_delete=True)
    for category, form in RULE_FORMS.items()
}


class DefinitionEditor:
    """Every form of the draft editor, and the spec they make together."""

    def __init__(self, *, version, data=None) -> None:
        spec = version.spec
        self.meta = VersionMetaForm(
            data,
            initial={
                "title": version.title,
                "change_note": version.change_note,
                "opened_at": version.updated_at.isoformat(),
            },
        )
        thresholds = spec.get("thresholds", {})
        self.thresholds = ThresholdsForm(
            data,
            prefix="thresholds",
            initial={k: _initial_number(v) for k, v in thresholds.items()},
        )
        bant = spec.get("bant", {})
        self.bant = BantForm(
            data,
            prefix="bant",
            initial={"required": bant.get("required", []), "min_count": bant.get("min_count", 0)},
        )
        self.formsets = {
            category: FORMSETS[category](
                data,
                prefix=category,
                initial=[RULE_FORMS[category].initial_from(r) for r in spec.get(category, [])],
            )
            for category in RULE_FORMS
        }
        # The forms whose rules made the spec, in spec order, to place "behaviour[2]".
        self._kept: dict[str, list[RuleForm]] = {}
        self.errors: list[str] = []  # problems of the whole definition

    @property
    def all_forms(self) -> list[forms.Form | forms.BaseFormSet]:
        return [self.meta, self.thresholds, self.bant, *self.formsets.values()]

    def kept_forms(self, category: str) -> list[RuleForm]:
        formset = self.formsets[category]
        return [
            form
            for form in formset.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]

    def is_valid(self) -> bool:
        # Validate everything, so that every error shows at once.
        valid = all([form.is_valid() for form in self.all_forms])
        if not valid:
            return False
        self._kept = {category: self.kept_forms(category) for category in RULE_FORMS}
        by_key: dict[str, list[RuleForm]] = {}
        for forms_ in self._kept.values():
            for form in forms_:
                by_key.setdefault(form.cleaned_data["key"], []).append(form)
        for key, same in by_key.items():
            if len(same) > 1:
                for form in same:
                    form.add_error(
                        "key", gettext("Another rule has the key “%(key)s”.") % {"key": key}
                    )
                valid = False
        if not valid:
            return False
        try:
            definition_from_spec(self.spec())
        except SpecError as exc:
            self.add_spec_error(exc)
            return False
        return True

    def spec(self) -> dict[str, Any]:
        """The definition JSON the valid forms describe."""
        return {
            "format": SPEC_FORMAT,
            "thresholds": self.thresholds.to_spec(),
            "bant": self.bant.to_spec(),
            **{
                category: [form.to_spec() for form in self._kept[category]]
                for category in RULE_FORMS
            },
        }

    def add_spec_error(self, exc: SpecError) -> None:
        """Show the engine's objection next to the rule or section it names."""
        match = _WHERE.match(exc.where)
        if match:
            category, index = match.group(1), int(match.group(2))
            kept = self._kept.get(category, [])
            if index < len(kept):
                inner = exc.where.partition(".")[2]
                if inner.startswith("all_of") and "rule_language" in kept[index].fields:
                    # "all_of[0]: unknown attribute 'x'", not on the rule's own attribute.
                    kept[index].add_error("rule_language", f"{inner}: {exc.message}")
                else:
                    kept[index].add_spec_error(exc.message)
                return
        if exc.where == "thresholds":
            self.thresholds.add_error(None, exc.message)
        elif exc.where == "bant":
            self.bant.add_error(None, exc.message)
        else:
            self.errors.append(str(exc))

    def add_service_error(self, exc: ValidationError) -> None:
        """Place a ValidationError of ``draft_update`` / ``draft_submit``."""
        if not hasattr(exc, "error_dict"):
            self.errors.extend(exc.messages)
            return
        for field, messages in exc.message_dict.items():
            for message in messages:
                if field in ("title", "change_note"):
                    self.meta.add_error(field, message)
                else:
                    where, _sep, text = message.partition(": ")
                    if text and (_WHERE.match(where) or where in ("thresholds", "bant")):
                        self.add_spec_error(SpecError(text, where=where))
                    else:
                        self.errors.append(message)

    @property
    def error_count(self) -> int:
        count = len(self.errors)
        for form in (self.meta, self.thresholds, self.bant):
            count += len(form.errors)
        for formset in self.formsets.values():
            count += len(formset.non_form_errors()) + sum(len(e) for e in formset.errors)
        return count


# --- Decisions and comparing -----------------------------------------------------------


class DecisionForm(forms.Form):
    APPROVE, REFUSE = "approve", "refuse"

    department = forms.ChoiceField(choices=Approval.Department.choices, widget=forms.HiddenInput)
    decision = forms.ChoiceField(choices=[(APPROVE, _("Approve")), (REFUSE, _("Refuse"))])
    comment = forms.CharField(
        label=_("Comment"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required: what you checked, or what has to change."),
    )

    def __init__(self, *args, departments: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = [
            c for c in Approval.Department.choices if c[0] in departments
        ]


class CompareForm(forms.Form):
    a = forms.TypedChoiceField(
        label=_("Left"), coerce=int, widget=forms.Select(attrs={"class": "form-select"})
    )
    b = forms.TypedChoiceField(
        label=_("Right"), coerce=int, widget=forms.Select(attrs={"class": "form-select"})
    )

    def __init__(self, *args, choices: list[tuple[int, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["a"].choices = choices
        self.fields["b"].choices = choices
