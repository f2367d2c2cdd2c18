"""The leads CSV export: the leads list as filtered on its page, with its scores, for Excel.

The rows come from the same filters as the list (``portal.lists``), as plain tuples
(``values_list``) streamed in chunks: on PostgreSQL through a server-side cursor, so
memory stays flat whatever the number of leads, and no model is built per row. Every
text cell goes through the formula escaper (``leads.csvio.csv_stream``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import tzinfo
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from leads import csvio
from leads.permissions import can_export_leads
from leads.reference import Industry, Prefecture
from portal import lists
from scoring.models import Band

EXPORT_CHUNK = 2000
ENCODINGS = {
    "utf-8": csvio.ENCODING_UTF8_BOM,
    "utf8": csvio.ENCODING_UTF8_BOM,
    "utf-8-sig": csvio.ENCODING_UTF8_BOM,
    "cp932": csvio.ENCODING_CP932,
    "shift_jis": csvio.ENCODING_CP932,
    "sjis": csvio.ENCODING_CP932,
}
# (header, column of the values_list)
COLUMNS = (
    (_("Name"), "name"),
    (_("Name (kana)"), "name_kana"),
    (_("E-mail"), "email"),
    (_("Company"), "company__name"),
    (_("Title"), "title"),
    (_("Department"), "department"),
    (_("Phone"), "phone"),
    (_("Prefecture"), "company__prefecture"),
    (_("Industry"), "company__industry"),
    (_("Industry (as given)"), "company__industry_detail"),
    (_("Employees"), "company__employee_count"),
    (_("Score"), "score__total"),
    (_("Band"), "score__band"),
    (_("Fit"), "score__fit"),
    (_("Engagement"), "score__engagement"),
    (_("Definition version"), "score__version__number"),
    (_("Company account score"), "company__account_score__total"),
    (_("Unsubscribed"), "is_unsubscribed"),
    (_("Last activity"), "last_activity_at"),
)
HEADER = tuple(label for label, _column in COLUMNS)
# Query parameters of the export link that are not list filters.
_NOT_FILTERS = {"encoding", "page"}


def _rows(queryset, zone: tzinfo, language: str) -> Iterator[list[Any]]:
    # A streaming response is consumed after the view returned: pin the
    # language and zone of the request that asked for it.
    with translation.override(language):
        yield [str(label) for label in HEADER]
        prefectures = {k: str(v) for k, v in Prefecture.choices}
        industries = {k: str(v) for k, v in Industry.choices}
        bands = {k: str(v) for k, v in Band.choices}
        yes, no = str(_("Yes")), str(_("No"))
        rows = queryset.values_list(*(column for _label, column in COLUMNS))
        for row in rows.iterator(chunk_size=EXPORT_CHUNK):
            (name, kana, email, company, title, department, phone, prefecture, industry,
             industry_detail, employees, total, band, fit, engagement, version, account,
             unsubscribed, last) = row  # fmt: skip
            yield [
                name, kana, email, company, title, department, phone,
                prefectures.get(prefecture, ""), industries.get(industry, ""), industry_detail,
                employees,
                None if total is None else float(total), bands.get(band, ""),
                None if fit is None else float(fit),
                None if engagement is None else float(engagement),
                None if version is None else f"v{version}",
                None if account is None else float(account),
                yes if unsubscribed else no,
                timezone.localtime(last, zone).strftime("%Y-%m-%d %H:%M") if last else "",
            ]  # fmt: skip


def leads_export_csv(*, actor, params: Mapping[str, str], encoding: str = "") -> Iterator[bytes]:
    """CSV bytes of the contacts the leads list shows for ``params``, in its order.

    UTF-8 with a BOM by default, CP932 for ``encoding="cp932"`` (characters
    CP932 lacks become "?"); CRLF line endings; the header and choices in the
    active language; last activity in the active time zone. Raises
    PermissionDenied unless the actor may export, and ValidationError for filters
    that do not validate, before anything is streamed.
    """
    if not can_export_leads(actor):
        raise PermissionDenied
    filters = params.copy() if hasattr(params, "lists") else dict(params)  # QueryDict or dict
    for key in _NOT_FILTERS:
        filters.pop(key, None)
    filterset = lists.lead_filter_for(actor=actor, params=filters)
    if filterset.is_bound and not filterset.is_valid():
        raise ValidationError(filterset.errors)
    queryset = filterset.qs
    rows = _rows(queryset, timezone.get_current_timezone(), translation.get_language())
    return csvio.csv_stream(rows, encoding=export_encoding(encoding))


def export_encoding(value: str) -> str:
    """The codec ``leads_export_csv`` will use for an ``?encoding=`` value."""
    return ENCODINGS.get(value.strip().lower(), csvio.ENCODING_UTF8_BOM)
