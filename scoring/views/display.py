"""How a stored spec reads on the page: labels, numbers, sentences, the threshold scale.

Pure presentation over the JSON a version stores (see ``scoring.spec``): the
templates get strings and small dataclasses, never raw spec values to format.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils import translation
from django.utils.formats import number_format
from django.utils.translation import gettext, ngettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from leads.models import Activity, Company, Contact
from leads.reference import Industry, Prefecture, Region
from scoring.engine import ATTRIBUTES, BANT_ITEMS, Label, Op
from scoring.models import Approval, AuditEntry, DefinitionVersion

ATTRIBUTE_LABELS: Mapping[str, Any] = {
    "contact.title": _("Contact: job title"),
    "contact.job_level": _("Contact: job level"),
    "contact.department": _("Contact: department"),
    "contact.email_domain": _("Contact: e-mail domain"),
    "contact.is_unsubscribed": _("Contact: unsubscribed"),
    "contact.has_consent": _("Contact: consented to contact"),
    "company.industry": _("Company: industry (JSIC)"),
    "company.employee_count": _("Company: employees"),
    "company.prefecture": _("Company: prefecture"),
    "company.region": _("Company: region"),
    "company.revenue_band": _("Company: revenue"),
    "company.domain": _("Company: web domain"),
}
assert set(ATTRIBUTE_LABELS) == set(ATTRIBUTES), "label every engine attribute"

OP_LABELS: Mapping[str, Any] = {
    Op.EQ: _("equals"),
    Op.IN: _("is one of"),
    Op.NOT_IN: _("is none of"),
    Op.CONTAINS_ANY: _("contains any of"),
    Op.ENDS_WITH_ANY: _("ends with any of"),
    Op.GTE: _("is at least"),
    Op.LTE: _("is at most"),
    Op.BETWEEN: _("is between"),
    Op.IS_TRUE: _("is yes"),
    Op.IS_FALSE: _("is no"),
}

# How a behaviour rule's property condition reads: "utm_medium is one of cpc, email".
PROPERTY_OP_LABELS: Mapping[str, Any] = {
    "equals": _("equals"),
    "contains": _("contains"),
    "in": _("is one of"),
    "regex": _("matches the pattern"),
    "gt": _("is more than"),
    "gte": _("is at least"),
    "lt": _("is less than"),
    "lte": _("is at most"),
}

BANT_LABELS: Mapping[str, Any] = {
    "budget": _("Budget"),
    "authority": _("Authority"),
    "need": _("Need"),
    "timeframe": _("Timeframe"),
}
BANT_ORDER = ("budget", "authority", "need", "timeframe")
assert set(BANT_ORDER) == BANT_ITEMS

KIND_LABELS: Mapping[str, Any] = dict(Activity.Kind.choices)

# Coded attribute values read better with their names: "E" is Manufacturing.
CODED_VALUES: Mapping[str, Mapping[str, Any]] = {
    "company.industry": dict(Industry.choices),
    "company.prefecture": dict(Prefecture.choices),
    "company.region": dict(Region.choices),
    "company.revenue_band": dict(Company.RevenueBand.choices),
    "contact.job_level": dict(Contact.JobLevel.choices),
}

CATEGORY_LABELS: Mapping[str, Any] = {
    "attributes": _("Fit (attributes)"),
    "behaviour": _("Behaviour"),
    "intents": _("Intent"),
}

FIELD_LABELS: Mapping[str, Any] = {
    "key": _("Key"),
    "label": _("Label"),
    "attribute": _("Attribute"),
    "op": _("Operator"),
    "value": _("Value"),
    "points": _("Points"),
    "kinds": _("Activity kinds"),
    "url_contains": _("URL contains"),
    "content_contains": _("Content title contains"),
    "campaign": _("Campaign"),
    "conditions": _("Property conditions"),
    "all_of": _("Also required"),
    "trigger": _("MQL trigger"),
    "cap": _("Cap"),
    "half_life_days": _("Half-life (days)"),
    "window_days": _("Window (days)"),
    "topics": _("Topics"),
    "min_strength": _("Minimum strength"),
    "warm": _("Warm from"),
    "hot": _("Hot from"),
    "fit_floor": _("Fit floor"),
    "required": _("Required items"),
    "min_count": _("Minimum confirmed"),
    "title": pgettext_lazy("definition version", "Title"),
    "change_note": _("What changed and why"),
    "format": _("Format"),
}

# Field order per rule category, as the compare page lists them.
RULE_FIELDS: Mapping[str, tuple[str, ...]] = {
    "attributes": ("label", "attribute", "op", "value", "all_of", "points"),
    "behaviour": (
        "label",
        "kinds",
        "url_contains",
        "content_contains",
        "campaign",
        "conditions",
        "trigger",
        "points",
        "cap",
        "half_life_days",
        "window_days",
    ),
    "intents": (
        "label",
        "topics",
        "min_strength",
        "points",
        "cap",
        "half_life_days",
        "window_days",
    ),
}

STATUS_BADGES: Mapping[str, str] = {
    DefinitionVersion.Status.DRAFT: "text-bg-secondary",
    DefinitionVersion.Status.AWAITING: "text-bg-warning",
    DefinitionVersion.Status.ACTIVE: "text-bg-success",
    DefinitionVersion.Status.RETIRED: "text-bg-light border",
}

ACTION_BADGES: Mapping[str, str] = {
    AuditEntry.Action.CREATED: "text-bg-light border",
    AuditEntry.Action.EDITED: "text-bg-info",
    AuditEntry.Action.SUBMITTED: "text-bg-primary",
    AuditEntry.Action.APPROVED: "text-bg-success",
    AuditEntry.Action.REFUSED: "text-bg-danger",
    AuditEntry.Action.ACTIVATED: "text-bg-success",
    AuditEntry.Action.RETIRED: "text-bg-secondary",
    AuditEntry.Action.WITHDRAWN: "text-bg-warning",
    AuditEntry.Action.RESCORED: "text-bg-light border",
}

EMPTY = "—"


# --- Numbers and values ---------------------------------------------------------------


def label_text(value: Any, fallback: str = "") -> str:
    """A stored rule label in the viewer's language ({language: text}, or one text)."""
    if not value:
        return fallback
    try:
        return Label.of(value).text(translation.get_language() or "ja")
    except ValueError:
        return str(value)


def number(value: Any) -> str:
    """5.0 → "5", 2.5 → "2.5", None → "—" (localised separators)."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if value < 0:
        return f"−{number(-value)}"  # a true minus sign, as in the points column
    if float(value).is_integer():
        return number_format(int(value), force_grouping=True)
    return number_format(round(value, 2), decimal_pos=None, force_grouping=True)


def points(value: Any) -> str:
    """Points with their sign: "+5", "−10"."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return number(value)
    text = number(abs(value))
    return f"−{text}" if value < 0 else f"+{text}"


def is_negative(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value < 0


def _coded(attribute: str, value: Any) -> str:
    names = CODED_VALUES.get(attribute, {})
    name = names.get(value) if isinstance(value, str) else None
    return f"{value} {name}" if name else str(value)


def attribute_value(attribute: str, op: str, value: Any) -> str:
    """An attribute rule's value as a person reads it."""
    if op in (Op.IS_TRUE, Op.IS_FALSE):
        return ""
    if op == Op.BETWEEN and isinstance(value, list | tuple) and len(value) == 2:
        return f"{number(value[0])} – {number(value[1])}"
    if isinstance(value, list | tuple):
        return ", ".join(_coded(attribute, v) for v in value)
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, int | float):
        return number(value)
    return _coded(attribute, value) if value is not None else EMPTY


def timing(rule: Mapping[str, Any]) -> str:
    """How a rule's points fade: "half-life 14 days · within 60 days", or "no decay"."""
    parts = []
    if rule.get("half_life_days") is not None:
        parts.append(gettext("half-life %(n)s days") % {"n": number(rule["half_life_days"])})
    if rule.get("window_days") is not None:
        parts.append(gettext("within %(n)s days") % {"n": number(rule["window_days"])})
    return " · ".join(parts) if parts else gettext("no decay")


def _value_text(value: Any) -> str:
    """Any spec leaf for the audit trail and the compare page."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, int | float):
        return number(value)
    if isinstance(value, list | tuple):
        return ", ".join(_value_text(v) for v in value) if value else EMPTY
    return str(value)


def condition_text(condition: Mapping[str, Any]) -> str:
    """One property condition as a phrase: "minutes is at least 30", "not (utm_medium equals email)"."""
    op = condition.get("op", "")
    value = condition.get("value")
    if isinstance(value, list | tuple):
        shown = ", ".join(str(v) for v in value)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        shown = number(value)
    else:
        shown = str(value)
    text = f"{condition.get('property', '')} {PROPERTY_OP_LABELS.get(op, op)} {shown}"
    return gettext("not (%(condition)s)") % {"condition": text} if condition.get("negate") else text


def conditions_text(conditions: Any) -> str:
    """A rule's conditions, all of which must hold."""
    if not isinstance(conditions, list | tuple) or not conditions:
        return EMPTY
    return _join([condition_text(c) for c in conditions if isinstance(c, Mapping)])


def all_of_text(all_of: Any) -> str:
    """A fit rule's extra conditions, all of which must hold too:
    "Company: employees is at least 300 and Company: industry (JSIC) is none of E …"."""
    if not isinstance(all_of, list | tuple) or not all_of:
        return EMPTY
    parts = []
    for condition in all_of:
        if not isinstance(condition, Mapping):
            continue
        attribute, op = condition.get("attribute", ""), condition.get("op", "")
        shown = attribute_value(attribute, op, condition.get("value"))
        words = [str(ATTRIBUTE_LABELS.get(attribute, attribute)), str(OP_LABELS.get(op, op))]
        parts.append(" ".join([*words, shown] if shown else words))
    return _join(parts) or EMPTY


def _label_both(value: Any) -> str:
    """A label as the audit trail and compare page show it: each language, marked."""
    if isinstance(value, Mapping):
        parts = [f"{text} ({lang})" for lang, text in sorted(value.items()) if text]
        return " · ".join(parts) or EMPTY
    return _value_text(value)


def field_text(category: str, rule: Mapping[str, Any], name: str) -> str:
    """One field of a rule as text (kinds and operators translated)."""
    value = rule.get(name)
    if name == "label":
        return label_text(value, rule.get("key", ""))
    if name == "kinds":
        return ", ".join(str(KIND_LABELS.get(k, k)) for k in value or ()) or EMPTY
    if name == "attribute":
        return str(ATTRIBUTE_LABELS.get(value, value))
    if name == "op":
        return str(OP_LABELS.get(value, value))
    if name == "value" and category == "attributes":
        return attribute_value(rule.get("attribute", ""), rule.get("op", ""), value) or EMPTY
    if name == "points":
        return points(value)
    if name == "topics":
        return ", ".join(value) if value else gettext("any topic")
    if name == "conditions":
        return conditions_text(value)
    if name == "all_of":
        return all_of_text(value)
    return _value_text(value)


# --- Thresholds and BANT --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scale:
    """The cold | warm | hot bar: each band's share of the drawn range, in percent."""

    cold_percent: float
    warm_percent: float
    hot_percent: float
    low: str
    warm: str
    hot: str
    fit_floor: str | None

    @property
    def hot_start_percent(self) -> float:
        """Where the hot band begins on the bar (its tick)."""
        return round(self.cold_percent + self.warm_percent, 2)


def threshold_scale(thresholds: Mapping[str, Any]) -> Scale:
    warm, hot = float(thresholds["warm"]), float(thresholds["hot"])
    low = min(0.0, warm)
    # Draw a third again past "hot", so the hot band is visible but not dominant.
    high = hot + max((hot - low) * 0.35, 10.0)
    span = high - low
    cold = round((warm - low) * 100 / span, 2)
    warm_share = round((hot - warm) * 100 / span, 2)
    floor = thresholds.get("fit_floor")
    return Scale(
        cold_percent=cold,
        warm_percent=warm_share,
        hot_percent=round(100 - cold - warm_share, 2),
        low=number(low),
        warm=number(thresholds["warm"]),
        hot=number(thresholds["hot"]),
        fit_floor=None if floor is None else number(floor),
    )


def _join(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return gettext("%(items)s and %(last)s") % {"items": ", ".join(items[:-1]), "last": items[-1]}


def bant_sentence(bant: Mapping[str, Any]) -> str:
    """The BANT condition in words."""
    required = [str(BANT_LABELS[i]) for i in BANT_ORDER if i in (bant.get("required") or ())]
    min_count = int(bant.get("min_count") or 0)
    if not required and not min_count:
        return gettext("No BANT condition: a hot lead is sales-qualified as it is.")
    if required and min_count > len(required):
        return gettext(
            "A lead is sales-qualified when %(items)s are confirmed, "
            "and at least %(n)s of the four BANT items in all."
        ) % {"items": _join(required), "n": min_count}
    if required:
        return gettext("A lead is sales-qualified when %(items)s are confirmed.") % {
            "items": _join(required)
        }
    return gettext(
        "A lead is sales-qualified when at least %(n)s of the four BANT items are confirmed."
    ) % {"n": min_count}


# --- Rules ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RuleView:
    key: str
    label: str
    points: str
    is_negative: bool
    cap: str
    timing: str
    attribute: str = ""
    op: str = ""
    value: str = ""
    kinds: tuple[str, ...] = ()
    filters: tuple[tuple[str, str], ...] = ()
    topics: str = ""
    min_strength: str = ""
    all_of: str = ""


def rule_views(spec: Mapping[str, Any]) -> dict[str, list[RuleView]]:
    """The spec's rules per category, ready for the three tables of the detail page."""
    views: dict[str, list[RuleView]] = {}
    for category in ("attributes", "behaviour", "intents"):
        rows = []
        for rule in spec.get(category, []):
            common = {
                "key": rule["key"],
                "label": label_text(rule.get("label"), rule["key"]),
                "points": points(rule.get("points")),
                "is_negative": is_negative(rule.get("points")),
                "cap": number(rule.get("cap")),
                "timing": timing(rule) if category != "attributes" else "",
            }
            if category == "attributes":
                rows.append(
                    RuleView(
                        **common,
                        attribute=field_text(category, rule, "attribute"),
                        op=field_text(category, rule, "op"),
                        value=attribute_value(rule["attribute"], rule["op"], rule.get("value")),
                        all_of=all_of_text(rule["all_of"]) if rule.get("all_of") else "",
                    )
                )
            elif category == "behaviour":
                filters = tuple(
                    (str(FIELD_LABELS[name]), rule[name])
                    for name in ("url_contains", "content_contains", "campaign")
                    if rule.get(name)
                )
                if rule.get("conditions"):
                    conditions = conditions_text(rule["conditions"])
                    filters += ((str(FIELD_LABELS["conditions"]), conditions),)
                if rule.get("trigger"):
                    filters += ((str(FIELD_LABELS["trigger"]), gettext("yes")),)
                kinds = tuple(str(KIND_LABELS.get(k, k)) for k in rule.get("kinds", ()))
                rows.append(RuleView(**common, kinds=kinds, filters=filters))
            else:
                rows.append(
                    RuleView(
                        **common,
                        topics=field_text(category, rule, "topics"),
                        min_strength=number(rule.get("min_strength", 0)),
                    )
                )
        views[category] = rows
    return views


# --- Audit trail ------------------------------------------------------------------------

_RULE_PATH = re.compile(r"^(attributes|behaviour|intents)\[(.+)\]\.(\w+)$")


@dataclass(frozen=True, slots=True)
class ChangeView:
    where: str
    path: str
    before: str
    after: str
    kind: str = "changed"  # or "added" / "removed": a whole rule, shown as one line


@dataclass(frozen=True, slots=True)
class AuditView:
    entry: AuditEntry
    badge: str
    changes: tuple[ChangeView, ...]
    notes: tuple[str, ...]
    comment: str


def path_label(path: str) -> str:
    """ "behaviour[pricing_page].points" → "Behaviour · pricing_page · Points"."""
    match = _RULE_PATH.match(path)
    if match:
        category, key, field = match.groups()
        return f"{CATEGORY_LABELS[category]} · {key} · {FIELD_LABELS.get(field, field)}"
    head, _dot, field = path.partition(".")
    if head == "thresholds":
        thresholds = gettext("Thresholds")
        return f"{thresholds} · {FIELD_LABELS.get(field, field)}"
    if head == "bant":
        return f"BANT · {FIELD_LABELS.get(field, field)}"
    return str(FIELD_LABELS.get(path, path))


def _change_value(path: str, value: Any) -> str:
    if path.endswith(".label"):
        return _label_both(value)
    if path.endswith(".kinds") and isinstance(value, list):
        return ", ".join(str(KIND_LABELS.get(k, k)) for k in value)
    if path.endswith(".op") and isinstance(value, str):
        return str(OP_LABELS.get(value, value))
    if path.endswith(".attribute") and isinstance(value, str):
        return str(ATTRIBUTE_LABELS.get(value, value))
    if path.endswith(".conditions"):
        return conditions_text(value)
    if path.endswith(".all_of"):
        return all_of_text(value)
    if path == "bant.required" and isinstance(value, list):
        return ", ".join(str(BANT_LABELS.get(i, i)) for i in value) or EMPTY
    return _value_text(value)


def _notes(detail: Mapping[str, Any]) -> tuple[str, ...]:
    notes = []
    if detail.get("department"):
        department = dict(Approval.Department.choices).get(detail["department"])
        notes.append(gettext("for %(department)s") % {"department": department})
    if detail.get("round"):
        notes.append(gettext("review round %(n)s") % {"n": detail["round"]})
    if detail.get("based_on"):
        notes.append(gettext("copied from v%(n)s") % {"n": detail["based_on"]})
    if detail.get("replaced"):
        notes.append(gettext("replaced v%(n)s") % {"n": detail["replaced"]})
    if detail.get("replaced_by"):
        notes.append(gettext("replaced by v%(n)s") % {"n": detail["replaced_by"]})
    if detail.get("job"):
        notes.append(gettext("every lead and account"))
    return tuple(notes)


def _change_view(change: Mapping[str, Any]) -> ChangeView | None:
    path = change.get("path", "")
    before = _change_value(path, change.get("before"))
    after = _change_value(path, change.get("after"))
    if before == after:  # "" and None both read "—"
        return None
    return ChangeView(where=path_label(path), path=path, before=before, after=after)


def _change_views(changes: Iterable[Mapping[str, Any]]) -> tuple[ChangeView, ...]:
    """One line per changed field, but one line for a whole added or removed rule."""
    plain: list[ChangeView | None] = []
    rules: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for change in changes:
        match = _RULE_PATH.match(change.get("path", ""))
        if match:
            rules.setdefault((match.group(1), match.group(2)), []).append(change)
        else:
            plain.append(_change_view(change))
    for (category, key), items in rules.items():
        where = f"{CATEGORY_LABELS[category]} · {key}"
        fields = {c["path"].rsplit(".", 1)[1]: c for c in items}
        if all(c.get("before") is None for c in items) and "key" in fields:
            label = label_text(fields.get("label", {}).get("after"), key)
            plain.append(ChangeView(where, f"{category}[{key}]", "", label, "added"))
        elif all(c.get("after") is None for c in items) and "key" in fields:
            label = label_text(fields.get("label", {}).get("before"), key)
            plain.append(ChangeView(where, f"{category}[{key}]", label, "", "removed"))
        else:
            plain.extend(_change_view(c) for c in items)
    return tuple(view for view in plain if view is not None)


def audit_views(entries: Iterable[AuditEntry]) -> list[AuditView]:
    rows = []
    for entry in entries:
        detail = entry.detail if isinstance(entry.detail, Mapping) else {}
        changes = _change_views(detail.get("changes") or ())
        rows.append(
            AuditView(
                entry=entry,
                badge=ACTION_BADGES.get(entry.action, "text-bg-light border"),
                changes=changes,
                notes=_notes(detail),
                comment=str(detail.get("comment") or ""),
            )
        )
    return rows


def category_label(category: str) -> str:
    return str(CATEGORY_LABELS[category])


def field_label(name: str) -> str:
    return str(FIELD_LABELS.get(name, name))


# --- Comparing two versions -----------------------------------------------------------

RULE_STATUS_LABELS: Mapping[str, Any] = {
    "added": _("Added"),
    "removed": _("Removed"),
    "changed": _("Changed"),
    "same": _("Unchanged"),
}
RULE_STATUS_BADGES: Mapping[str, str] = {
    "added": "text-bg-success",
    "removed": "text-bg-danger",
    "changed": "text-bg-warning",
    "same": "text-bg-light border",
}


@dataclass(frozen=True, slots=True)
class FieldCell:
    label: str
    text: str
    is_changed: bool
    is_negative: bool = False


@dataclass(frozen=True, slots=True)
class CompareRow:
    key: str
    label: str
    status: str
    status_label: str
    badge: str
    left: tuple[FieldCell, ...] | None
    right: tuple[FieldCell, ...] | None


def _cells(category: str, rule, changed: frozenset[str]) -> tuple[FieldCell, ...] | None:
    """A rule's fields for one side; an empty field only where the other side has it."""
    if rule is None:
        return None
    return tuple(
        FieldCell(
            label=field_label(name),
            text=field_text(category, rule, name),
            is_changed=name in changed,
            is_negative=name == "points" and is_negative(rule.get(name)),
        )
        for name in RULE_FIELDS[category]
        if name in changed or rule.get(name) not in (None, "", [])
    )


def compare_rows(comparison, *, only_changes: bool) -> dict[str, list[CompareRow]]:
    """Rows of the compare page per category (optionally without unchanged rules)."""
    rows: dict[str, list[CompareRow]] = {}
    for category, diffs in comparison.rules.items():
        rows[category] = []
        for diff in diffs:
            if only_changes and diff.status == "same":
                continue
            # Only a rule on both sides has changed fields worth marking.
            changed = diff.changed_fields if diff.status == "changed" else frozenset()
            rows[category].append(
                CompareRow(
                    key=diff.key,
                    label=label_text((diff.right or diff.left or {}).get("label"), diff.key),
                    status=diff.status,
                    status_label=str(RULE_STATUS_LABELS[diff.status]),
                    badge=RULE_STATUS_BADGES[diff.status],
                    left=_cells(category, diff.left, changed),
                    right=_cells(category, diff.right, changed),
                )
            )
    return rows


def side_by_side(
    left: Mapping[str, Any], right: Mapping[str, Any], names: Iterable[str], changed: frozenset[str]
) -> list[tuple[str, str, str, bool]]:
    """(label, left text, right text, changed) for thresholds or BANT fields."""
    rows = []
    for name in names:
        a, b = left.get(name), right.get(name)
        if name == "required":
            text_a = ", ".join(str(BANT_LABELS[i]) for i in BANT_ORDER if i in (a or ())) or EMPTY
            text_b = ", ".join(str(BANT_LABELS[i]) for i in BANT_ORDER if i in (b or ())) or EMPTY
        else:
            text_a, text_b = number(a), number(b)
        rows.append((field_label(name), text_a, text_b, name in changed))
    return rows


# --- What a rescore changed -------------------------------------------------------------

BAND_NAMES: Mapping[str, Any] = {
    "": _("new"),
    "cold": _("Cold"),
    "warm": _("Warm"),
    "hot": _("Hot (MQL)"),
}


@dataclass(frozen=True, slots=True)
class MoveView:
    text: str  # "cold → warm"
    count: str
    is_up: bool
    to_band: str


def band_move(move) -> MoveView:
    """One (from, to) line of a rescore's outcome (a ``selectors.BandMove``)."""
    return MoveView(
        text=f"{BAND_NAMES[move.from_band]} → {BAND_NAMES[move.to_band]}",
        count=number(move.count),
        is_up=move.is_up,
        to_band=move.to_band,
    )


def moves_sentence(moves) -> str:
    """What a finished rescore changed, in words: how many leads moved up and down."""
    if not moves:
        return gettext("No lead changed band.")
    up = sum(m.count for m in moves if m.is_up and m.from_band)
    down = sum(m.count for m in moves if not m.is_up)
    new = sum(m.count for m in moves if not m.from_band)
    hot = sum(m.count for m in moves if m.to_band == "hot")
    parts = []
    if up:
        parts.append(
            ngettext("%(n)s lead moved up", "%(n)s leads moved up", up) % {"n": number(up)}
        )
    if down:
        parts.append(
            ngettext("%(n)s lead moved down", "%(n)s leads moved down", down) % {"n": number(down)}
        )
    if new:
        parts.append(
            ngettext(
                "%(n)s lead was scored warm or hot for the first time",
                "%(n)s leads were scored warm or hot for the first time",
                new,
            )
            % {"n": number(new)}
        )
    text = "; ".join(parts) + "."
    if hot:
        text += " " + ngettext(
            "%(n)s of them became hot (MQL).", "%(n)s of them became hot (MQL).", hot
        ) % {"n": number(hot)}
    return text
