"""What scoring shows on the pages that compose several apps: its own parts only.

A lead's score panel and an account's (``lead_score_panel``, ``account_score_panel``),
the roll-up of a company's contacts (``contacts_rollup``) and what a list row needs to
say why a high score is not hot (``list_thresholds``). The composing pages (``portal``)
put these beside the other apps' parts; the templates are ``scoring/_lead_score.html``,
``scoring/_account_score.html`` and the ``score_cell`` tag.

Every number is worded for a person: points in tenths that still add up
(``engine.rounded_parts``), tiny contributions grouped as "other small signals", and
the band's reason in a sentence, the fit floor included.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.db.models import Count, Max, Q
from django.utils import translation
from django.utils.translation import gettext, ngettext

from leads.models import Contact
from scoring.engine import (
    BehaviourRule,
    Definition,
    IntentRule,
    RuleContribution,
    Standing,
    Thresholds,
    rounded_parts,
    rounded_total,
)
from scoring.explain import Explanation, account_score_explain, lead_score_explain
from scoring.models import Band, LeadScore
from scoring.services.jobs import active_version, definition_of
from scoring.views.display import Scale, number, points, threshold_scale

# Contributions under this many points are folded into one line.
SMALL_SIGNAL = 1.0


@dataclass(frozen=True, slots=True)
class ReasonLine:
    """One line of "why": a rule (or the small signals together) and its points, rounded."""

    key: str  # the rule's key; "" for the small signals
    label: str
    points: str  # "+15.4", "−100"
    detail: str
    is_negative: bool
    members: tuple[str, ...] = ()  # the small signals' labels


@dataclass(frozen=True, slots=True)
class ScorePanel:
    explanation: Explanation
    standing: Standing
    total: str
    fit: str
    engagement: str
    fit_lines: tuple[ReasonLine, ...]
    engagement_lines: tuple[ReasonLine, ...]
    negatives: tuple[ReasonLine, ...]
    summary: str
    scale: Scale
    marker_percent: float
    is_account: bool

    @property
    def band(self) -> str:
        return self.standing.band

    @property
    def band_label(self) -> str:
        return str(Band(self.standing.band).label)


def _rule_of(definition: Definition, key: str) -> BehaviourRule | IntentRule | None:
    for rule in (*definition.behaviour, *definition.intents):
        if rule.key == key:
            return rule
    return None


def _detail(contribution: RuleContribution, definition: Definition) -> str:
    """Plain words for a behaviour or intent line: how often, fading, capped."""
    if contribution.category == "fit":
        return ""
    parts = [ngettext("%(n)s time", "%(n)s times", contribution.hits) % {"n": contribution.hits}]
    if contribution.is_trigger:
        parts.append(gettext("MQL trigger"))
    rule = _rule_of(definition, contribution.rule_key)
    faded = abs(contribution.points_decayed) < abs(contribution.points_raw) - 0.05
    if faded:
        parts.append(
            gettext("worth %(raw)s when new, less as time passes")
            % {"raw": number(round(contribution.points_raw, 1))}
        )
    capped = rule is not None and rule.cap is not None and contribution.points == rule.cap
    if capped and abs(contribution.points_decayed) > abs(rule.cap) + 0.005:
        parts.append(gettext("capped at %(cap)s") % {"cap": number(rule.cap)})
    return " · ".join(parts)


def _lines(
    contributions: Sequence[RuleContribution], definition: Definition, language: str
) -> tuple[ReasonLine, ...]:
    """The contributions as lines, small ones folded, rounded so that they add up."""
    big = [c for c in contributions if abs(c.points) >= SMALL_SIGNAL]
    small = [c for c in contributions if abs(c.points) < SMALL_SIGNAL]
    values = [c.points for c in big] + ([sum(c.points for c in small)] if small else [])
    shown = rounded_parts(values)
    lines = [
        ReasonLine(
            key=c.rule_key,
            label=c.label.text(language),
            points=points(value),
            detail=_detail(c, definition),
            is_negative=c.points < 0,
        )
        for c, value in zip(big, shown, strict=False)
    ]
    if small:
        lines.append(
            ReasonLine(
                key="",
                label=ngettext("%(n)s other small signal", "%(n)s other small signals", len(small))
                % {"n": len(small)},
                points=points(shown[-1]),
                detail=gettext("each under %(n)s point") % {"n": number(SMALL_SIGNAL)},
                is_negative=shown[-1] < 0,
                members=tuple(c.label.text(language) for c in small),
            )
        )
    return tuple(lines)


def _fmt(value: float) -> str:
    return number(rounded_total(value))


def standing_sentence(
    standing: Standing, *, is_account: bool = False, trigger_held: bool = False
) -> str:
    """Why the band is what it is, and how far the next band is, in one or two sentences.

    ``trigger_held``: an MQL trigger matched but a negative rule held it (``Score.trigger_held``).
    """
    t = standing.thresholds
    values = {
        "total": _fmt(standing.total),
        "fit": _fmt(standing.fit),
        "warm": number(t.warm),
        "hot": number(t.hot),
        "floor": number(t.fit_floor),
        "to_warm": _fmt(standing.to_warm or 0),
        "to_hot": _fmt(standing.to_hot or 0),
        "short": _fmt(standing.fit_short or 0),
        "margin": _fmt(standing.above_hot or 0),
    }
    if standing.triggered:
        return (
            gettext(
                "Hot at once: an MQL trigger matched (a hand-raising activity such as a demo "
                "request), whatever the score of %(total)s."
            )
            % values
        )
    held = (
        " "
        + gettext("An MQL trigger matched, but a negative rule keeps the lead from being an MQL.")
        if trigger_held
        else ""
    )
    return _standing_sentence(standing, values) + held


def _standing_sentence(standing: Standing, values: Mapping[str, str]) -> str:
    t = standing.thresholds
    if standing.band == "hot":
        text = gettext(
            "Hot: the score of %(total)s is %(margin)s above the hot threshold of %(hot)s."
        )
        if t.fit_floor is not None:
            text += " " + gettext("Its fit of %(fit)s meets the fit floor of %(floor)s.")
        return text % values
    if standing.held_by_fit_floor:
        return (
            gettext(
                "Warm, not hot: the score of %(total)s reaches the hot threshold of %(hot)s, "
                "but its fit is %(fit)s, under the fit floor of %(floor)s."
            )
            + " "
            + gettext(
                "Fit comes from who the lead is (title, company size, industry), not from what "
                "it does: more activity alone will not make it hot. %(short)s more fit points would."
            )
        ) % values
    if standing.band == "warm":
        text = gettext(
            "Warm: the score of %(total)s is past the warm threshold of %(warm)s; "
            "%(to_hot)s more points reach the hot threshold of %(hot)s."
        )
    else:
        text = gettext(
            "Cold: the score of %(total)s is %(to_warm)s points short of the warm threshold "
            "of %(warm)s (hot from %(hot)s)."
        )
    if standing.fit_short is not None:
        text += " " + gettext(
            "Even then it stays warm until its fit of %(fit)s reaches the fit floor of %(floor)s."
        )
    return text % values


def _marker(scale_thresholds: Thresholds, total: float) -> float:
    low = min(0.0, scale_thresholds.warm)
    hot = scale_thresholds.hot
    high = hot + max((hot - low) * 0.35, 10.0)  # as threshold_scale draws it
    return round(min(100.0, max(0.0, (total - low) * 100 / (high - low))), 2)


def _panel(explanation: Explanation | None, *, is_account: bool) -> ScorePanel | None:
    if explanation is None:
        return None
    definition = definition_of(explanation.version)
    language = translation.get_language() or "ja"
    result = explanation.score
    standing = definition.thresholds.standing(
        result.total, result.fit, triggered=bool(result.triggered_by)
    )
    fit = [c for c in result.breakdown if c.category == "fit"]
    engagement = [c for c in result.breakdown if c.category != "fit"]
    fit_lines = _lines(fit, definition, language)
    engagement_lines = _lines(engagement, definition, language)
    negatives = tuple(
        line for line in (*fit_lines, *engagement_lines) if line.is_negative and line.key
    )
    thresholds = explanation.version.spec.get("thresholds", {})
    return ScorePanel(
        explanation=explanation,
        standing=standing,
        total=_fmt(result.total),
        fit=_fmt(result.fit),
        engagement=_fmt(result.engagement),
        fit_lines=fit_lines,
        engagement_lines=engagement_lines,
        negatives=negatives,
        summary=standing_sentence(
            standing, is_account=is_account, trigger_held=result.trigger_held
        ),
        scale=threshold_scale(thresholds),
        marker_percent=_marker(definition.thresholds, result.total),
        is_account=is_account,
    )


def lead_score_panel(*, contact_id: int) -> ScorePanel | None:
    """The lead page's score panel: its score now, why, and how far the next band is."""
    return _panel(lead_score_explain(contact_id=contact_id), is_account=False)


def account_score_panel(*, company_id: int) -> ScorePanel | None:
    """The company page's account panel: what the company itself shows, explained."""
    return _panel(account_score_explain(company_id=company_id), is_account=True)


# --- A company's contacts, rolled up ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rollup:
    contacts: int
    hot: int
    warm: int
    cold: int
    best: float | None

    @property
    def unscored(self) -> int:
        return max(0, self.contacts - self.hot - self.warm - self.cold)

    @property
    def best_text(self) -> str:
        return "—" if self.best is None else _fmt(self.best)


def contacts_rollup(*, company_ids: Sequence[int]) -> dict[int, Rollup]:
    """Per company: its contacts by band and the best contact's score (one query)."""
    rows = (
        Contact.objects.filter(company_id__in=list(company_ids))
        .order_by()
        .values("company_id")
        .annotate(
            contacts=Count("id"),
            hot=Count("id", filter=_band("hot")),
            warm=Count("id", filter=_band("warm")),
            cold=Count("id", filter=_band("cold")),
            best=Max("score__total"),
        )
    )
    found = {
        row["company_id"]: Rollup(
            contacts=row["contacts"],
            hot=row["hot"],
            warm=row["warm"],
            cold=row["cold"],
            best=None if row["best"] is None else float(row["best"]),
        )
        for row in rows
    }
    return {pk: found.get(pk, Rollup(0, 0, 0, 0, None)) for pk in company_ids}


def _band(band: str) -> Q:
    return Q(score__band=band)


# --- Lists ---------------------------------------------------------------------------


def list_thresholds() -> Thresholds | None:
    """The active thresholds, read once for a page of rows (the ``score_cell`` tag)."""
    version = active_version()
    return None if version is None else definition_of(version).thresholds


def held_back_note(score: LeadScore, thresholds: Thresholds | None) -> str:
    """Why a score that reaches "hot" is not hot, for a row's tooltip; "" otherwise."""
    if thresholds is None or score.band == "hot" or thresholds.fit_floor is None:
        return ""
    total, fit = float(score.total), float(score.fit)
    if total < thresholds.hot or fit >= thresholds.fit_floor:
        return ""
    return gettext(
        "Reaches the hot threshold of %(hot)s, but its fit of %(fit)s is under the "
        "fit floor of %(floor)s."
    ) % {"hot": number(thresholds.hot), "fit": _fmt(fit), "floor": number(thresholds.fit_floor)}
