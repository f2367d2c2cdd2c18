"""Scoring's parts for lists the composing pages draw: a score cell with its band."""

from __future__ import annotations

import re

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from scoring.engine import rounded_total
from scoring.models import LeadScore
from scoring.panels import held_back_note
from scoring.views.display import number

register = template.Library()

# A path on this site written in a note ("/feedback/reviews/12/"): whole words only.
_SITE_PATH = re.compile(r"(?<![\w/.:])(/[A-Za-z0-9_\-]+(?:/[A-Za-z0-9_\-]+)*/)(?![\w/])")


@register.filter
def note_html(text: str) -> SafeString:
    """A note escaped, its lines kept and the site paths in it linked (a review's evidence)."""
    linked = _SITE_PATH.sub(r'<a href="\1">\1</a>', escape(text or ""))
    return mark_safe(linked.replace("\n", "<br>"))  # escaped above


@register.inclusion_tag("scoring/_score_cell.html", takes_context=True)
def score_cell(context, score, *, empty_title: str = ""):
    """A row's score and band; a marker says why a score past "hot" is not hot.

    The page puts the active thresholds in its context as ``score_thresholds``
    (``scoring.panels.list_thresholds``, read once per page, not per row).
    """
    if not isinstance(score, LeadScore):  # a missing score resolves to "" in templates
        return {"score": None}
    return {
        "score": score,
        "total": number(rounded_total(float(score.total))),
        "held_back": held_back_note(score, context.get("score_thresholds")),
    }
