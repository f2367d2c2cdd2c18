"""The leads CSV export (streamed)."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from django.utils import timezone

from accounts.decorators import role_required
from leads import csvio
from leads.permissions import can_export_leads
from leads.services import exports


@role_required(can_export_leads)
def lead_export(request):
    encoding = request.GET.get("encoding", "")
    body = exports.leads_export_csv(actor=request.user, params=request.GET, encoding=encoding)
    charset = "shift_jis" if exports.export_encoding(encoding) == csvio.ENCODING_CP932 else "utf-8"
    response = StreamingHttpResponse(body, content_type=f"text/csv; charset={charset}")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="leads-{stamp}.csv"'
    return response
