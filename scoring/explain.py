"""A lead's score, explained: computed right now, with every rule's part.

The lead page and ``GET /api/v1/leads/{id}/score`` both ask this module, so
the words on the page and the JSON an integration reads are the same numbers.
The score is computed live under the active version, so it is exact at the
moment asked, through the set-based path for one lead: SQL sums each rule's
hits and decayed points (a lead with 10,000 activities costs three aggregate
queries, not 10,000 Python matches) and the engine's ``score_from_sums``
finishes it, breakdown included; a hypothesis test holds that path to
``engine.score``. The stored ``LeadScore`` is what lists and reports use,
refreshed by the rescoring tasks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from scoring.engine import Score, Standing
from scoring.models import DefinitionVersion, LeadScore
from scoring.services.jobs import active_version, definition_of
from scoring.services.rescore import Subjects, account_scores_compute, contact_scores_compute


@dataclass(frozen=True)
class Explanation:
    version: DefinitionVersion
    at: datetime
    score: Score
    stored: LeadScore | None

    @property
    def standing(self) -> Standing:
        """The score against the version's thresholds: why this band, how far the next."""
        thresholds = definition_of(self.version).thresholds
        return thresholds.standing(
            self.score.total, self.score.fit, triggered=bool(self.score.triggered_by)
        )

    def as_dict(self, languages: Sequence[str] = ("ja", "en")) -> dict[str, object]:
        standing = self.standing
        t = standing.thresholds
        return {
            **self.score.as_dict(languages),
            "version": self.version.number,
            "at": self.at.isoformat(),
            "standing": {
                "warm": t.warm,
                "hot": t.hot,
                "fit_floor": t.fit_floor,
                "points_to_warm": standing.to_warm,
                "points_to_hot": standing.to_hot,
                "fit_short": standing.fit_short,
                "held_by_fit_floor": standing.held_by_fit_floor,
                "reasons": list(standing.reasons),
            },
            "negative_rules": [c.rule_key for c in self.score.breakdown if c.points < 0],
        }


def lead_score_explain(*, contact_id: int, at: datetime | None = None) -> Explanation | None:
    """The contact's score and its reasons under the active version; None without one."""
    version = active_version()
    if version is None:
        return None
    at = at or timezone.now()
    found = contact_scores_compute(
        definition=definition_of(version), subjects=Subjects(ids=(contact_id,)), at=at,
        breakdown=True,
    )  # fmt: skip
    result = found[contact_id]
    stored = LeadScore.objects.filter(contact_id=contact_id).first()
    return Explanation(version=version, at=at, score=result, stored=stored)


def account_score_explain(*, company_id: int, at: datetime | None = None) -> Explanation | None:
    """A company's account score (as if it had no contact) under the active version."""
    version = active_version()
    if version is None:
        return None
    at = at or timezone.now()
    found = account_scores_compute(
        definition=definition_of(version), subjects=Subjects(ids=(company_id,)), at=at,
        breakdown=True,
    )  # fmt: skip
    result = found[company_id]
    stored = LeadScore.objects.filter(company_id=company_id, contact__isnull=True).first()
    return Explanation(version=version, at=at, score=result, stored=stored)
