"""The leads CSV export: the leads list, as filtered on its page, for Excel.

Rows stream from the database (one query, ``iterator(chunk_size=2000)``, the
company joined in) straight into the response; every text cell goes through
the formula escaper (leads.csvio.escape_formula).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import tzinfo
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from leads import csvio, selectors
from leads.models import Contact
from leads.permissions import can_export_leads

EXPORT_CHUNK = 2000
ENCODINGS = {
    "utf-8": csvio.ENCODING_UTF8_BOM,
    "utf8": csvio.ENCODING_UTF8_BOM,
    "utf-8-sig": csvio.ENCODING_UTF8_BOM,
    "cp932": csvio.ENCODING_CP932,
    "shift_jis": csvio.ENCODING_CP932,
    "sjis": csvio.ENCODING_CP932,
}
HEADER = (
    _("Name"),
    _("Name (kana)"),
    _("E-mail"),
    _("Company"),
    _("Title"),
    _("Department"),
    _("Phone"),
    _("Prefecture"),
    _("Industry"),
    _("Employees"),
    _("Last activity"),
)
# Query parameters of the export link that are not list filters.
_NOT_FILTERS = {"encoding", "page"}


def _row(contact: Contact, zone: tzinfo) -> list[Any]:
    company = contact.company
    last = contact.last_activity_at
    return [
        contact.name,
        contact.name_kana,
        contact.email,
        company.name if company else "",
        contact.title,
        contact.department,
        contact.phone,
        company.get_prefecture_display() if company and company.prefecture else "",
        (company.get_industry_display() if company.industry else company.industry_detail)
        if company
        else "",
        company.employee_count if company else None,
        timezone.localtime(last, zone).strftime("%Y-%m-%d %H:%M") if last else "",
    ]


def _rows(queryset: QuerySet[Contact], zone: tzinfo, language: str) -> Iterator[list[Any]]:
    # A streaming response is consumed after the view returned: pin the
    # language and zone of the request that asked for it.
    with translation.override(language):
        yield [str(label) for label in HEADER]
        for contact in queryset.iterator(chunk_size=EXPORT_CHUNK):
            yield _row(contact, zone)


def leads_export_csv(*, actor, params: Mapping[str, str], encoding: str = "") -> Iterator[bytes]:
    """CSV bytes of the contacts the leads list shows for ``params``.

    UTF-8 with a BOM by default, CP932 for ``encoding="cp932"`` (characters
    CP932 lacks become "?"); CRLF line endings; the header in the active
    language; last activity in the active time zone. Raises PermissionDenied
    (before anything is streamed) unless the actor may export.
    """
    if not can_export_leads(actor):
        raise PermissionDenied
    filters = params.copy() if hasattr(params, "lists") else dict(params)  # QueryDict or dict
    for key in _NOT_FILTERS:
        filters.pop(key, None)
    queryset = selectors.contact_list_for(actor=actor, params=filters).select_related("company")
    rows = _rows(queryset, timezone.get_current_timezone(), translation.get_language())
    return csvio.csv_stream(rows, encoding=export_encoding(encoding))


def export_encoding(value: str) -> str:
    """The codec ``leads_export_csv`` will use for an ``?encoding=`` value."""
    return ENCODINGS.get(value.strip().lower(), csvio.ENCODING_UTF8_BOM)
