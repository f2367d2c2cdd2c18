"""Small formatting filters for the review pages."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def pct(value) -> str:
    """0.456 → "46%"; None → "—"."""
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:.0f}%"


@register.filter
def num(value, digits: int = 1) -> str:
    if value is None or value == "":
        return "—"
    return f"{float(value):.{int(digits)}f}".rstrip("0").rstrip(".")
