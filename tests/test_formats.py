"""Dates read one way per language, on every page."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.template import Context, Template
from django.utils import translation

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
NAMED = {
    "DATE_FORMAT",
    "SHORT_DATE_FORMAT",
    "DATETIME_FORMAT",
    "SHORT_DATETIME_FORMAT",
    "TIME_FORMAT",
}
AT = dt.datetime(2026, 12, 7, 14, 5, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("language", "date", "datetime"),
    [("en", "2026-12-07", "2026-12-07 14:05"), ("ja", "2026/12/07", "2026/12/07 14:05")],
)
def test_every_named_format_reads_the_same_in_a_language(language, date, datetime):
    template = Template(
        "{{ at|date:'DATE_FORMAT' }}|{{ at|date:'SHORT_DATE_FORMAT' }}|"
        "{{ at|date:'DATETIME_FORMAT' }}|{{ at|date:'SHORT_DATETIME_FORMAT' }}|"
        "{{ at|time:'TIME_FORMAT' }}"
    )
    with translation.override(language), dt_timezone("UTC"):
        assert template.render(Context({"at": AT})) == f"{date}|{date}|{datetime}|{datetime}|14:05"


def dt_timezone(name):
    from django.utils import timezone

    return timezone.override(name)


def test_templates_format_dates_by_name_only():
    """A literal format in one template would break "one format throughout"."""
    odd = []
    for path in TEMPLATES.rglob("*.html"):
        for fmt in re.findall(r"\|(?:date|time):[\"']([^\"']+)[\"']", path.read_text()):
            if (
                fmt not in NAMED
                and fmt != "c"
                and not (
                    fmt == "Y-m-d" and path.name == "_timeline.html"  # a key, never shown
                )
            ):
                odd.append(f"{path.relative_to(TEMPLATES)}: {fmt}")
    assert odd == []
