"""Two versions side by side: thresholds, BANT, and every rule by key. Thin."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render

from accounts.decorators import role_required
from scoring import selectors
from scoring.forms import CompareForm
from scoring.permissions import can_view_definitions
from scoring.views import display


def _defaults(choices: list[tuple[int, str]], b: str | None) -> tuple[int | None, int | None]:
    """Left: the active version (else the newest); right: the one asked for, else the newest other."""
    active = selectors.version_active()
    ids = [pk for pk, _label in choices]
    left = active.pk if active else (ids[0] if ids else None)
    if b and b.isdigit():
        return left, int(b)
    others = [pk for pk in ids if pk != left]
    return left, (others[0] if others else left)


@role_required(can_view_definitions)
def version_compare(request):
    choices = selectors.version_choices()
    default_a, default_b = _defaults(choices, request.GET.get("b"))
    form = CompareForm(
        {"a": request.GET.get("a") or default_a, "b": request.GET.get("b") or default_b},
        choices=choices,
    )
    if not form.is_valid():
        raise Http404
    left = selectors.version_get(version_id=form.cleaned_data["a"])
    right = selectors.version_get(version_id=form.cleaned_data["b"])
    comparison = selectors.spec_compare(left=left.spec, right=right.spec)
    show_all = request.GET.get("all") == "1"
    rows = display.compare_rows(comparison, only_changes=not show_all)
    hidden = sum(1 for diffs in comparison.rules.values() for d in diffs if d.status == "same")
    context = {
        "form": form,
        "left": left,
        "right": right,
        "left_badge": display.STATUS_BADGES[left.status],
        "right_badge": display.STATUS_BADGES[right.status],
        "left_scale": display.threshold_scale(left.spec["thresholds"]),
        "right_scale": display.threshold_scale(right.spec["thresholds"]),
        "left_bant": display.bant_sentence(left.spec.get("bant", {})),
        "right_bant": display.bant_sentence(right.spec.get("bant", {})),
        "thresholds": display.side_by_side(
            left.spec["thresholds"],
            right.spec["thresholds"],
            ("warm", "hot", "fit_floor"),
            comparison.changed_thresholds,
        ),
        "bant_rows": display.side_by_side(
            left.spec.get("bant", {}),
            right.spec.get("bant", {}),
            ("required", "min_count"),
            comparison.changed_bant,
        ),
        "sections": [
            (category, display.category_label(category), rows[category])
            for category in selectors.RULE_CATEGORIES
        ],
        "change_count": comparison.change_count,
        "show_all": show_all,
        "unchanged_count": hidden,
        "is_same_version": left.pk == right.pk,
    }
    return render(request, "scoring/version_compare.html", context)
