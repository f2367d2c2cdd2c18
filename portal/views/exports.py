"""The leads CSV export (streamed)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext

from accounts.decorators import role_required
from leads import csvio
from leads.permissions import can_export_leads
from portal import exports


@role_required(can_export_leads)
def lead_export(request):
    encoding = request.GET.get("encoding", "")
    try:
        body = exports.leads_export_csv(actor=request.user, params=request.GET, encoding=encoding)
    except ValidationError as exc:
        problems = "; ".join(
            f"{field}: {' '.join(messages)}" for field, messages in exc.message_dict.items()
        )
        return HttpResponseBadRequest(
            gettext("Nothing was exported: fix these filters first. %(problems)s")
            % {"problems": problems},
            content_type="text/plain; charset=utf-8",
        )
    charset = "shift_jis" if exports.export_encoding(encoding) == csvio.ENCODING_CP932 else "utf-8"
    response = StreamingHttpResponse(body, content_type=f"text/csv; charset={charset}")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="leads-{stamp}.csv"'
    return response
