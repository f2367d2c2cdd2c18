"""The CSV import pages: upload, preview, dry run, import, progress. Thin views.

The dry run and the import run as Celery tasks (in-process when no broker is
configured); the page polls the job's progress row with htmx while they run.
"""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRefresh

from accounts.decorators import role_required
from config import background
from leads import csvio
from leads.forms import ImportUploadForm
from leads.models import ImportJob
from leads.permissions import can_import_leads
from leads.services import imports
from leads.tasks import import_job_check as import_job_check_task
from leads.tasks import import_job_commit as import_job_commit_task

STATUS_BADGES = {
    ImportJob.Status.UPLOADED: "text-bg-secondary",
    ImportJob.Status.CHECKING: "text-bg-info",
    ImportJob.Status.CHECKED: "text-bg-primary",
    ImportJob.Status.INVALID: "text-bg-warning",
    ImportJob.Status.IMPORTING: "text-bg-info",
    ImportJob.Status.DONE: "text-bg-success",
    ImportJob.Status.FAILED: "text-bg-danger",
}
_CHECKABLE = {
    ImportJob.Status.UPLOADED,
    ImportJob.Status.CHECKED,
    ImportJob.Status.INVALID,
    ImportJob.Status.FAILED,
}


def _accepted_columns(kind: str) -> list[tuple[str, list[str]]]:
    """(field label, header names it accepts), for the help shown with the upload form."""
    aliases = csvio.INTENT_ALIASES if kind == csvio.KIND_INTENT else csvio.LEAD_ALIASES
    rows = []
    for field, names in aliases.items():
        if field == csvio.F_KANA_AMBIGUOUS:
            label = _("Kana (フリガナ: the person's if there is a name column, else the company's)")
        else:
            label = csvio.FIELD_LABELS[field]
        japanese = [n for n in names if not n.isascii()][:4]
        english = [n for n in names if n.isascii()][:3]
        rows.append((str(label), japanese + english))
    return rows


def _progress_context(job: ImportJob) -> dict:
    if job.started_at is None:
        label, percent = gettext("Waiting for a worker…"), 0
    elif job.status == ImportJob.Status.IMPORTING and job.processed_rows >= job.total_rows:
        # The write phase is one transaction: no progress to show inside it.
        label, percent = gettext("Writing…"), 100
    elif job.status == ImportJob.Status.IMPORTING:
        label, percent = gettext("Checking rows before writing…"), job.percent
    else:
        label, percent = gettext("Checking rows…"), job.percent
    return {
        "job_id": job.id,
        "poll_url": reverse("leads:import-progress", args=[job.id]),
        "running": job.is_running,
        "label": label,
        "percent": percent,
        "detail": gettext("%(done)s of %(total)s rows")
        % {"done": f"{job.processed_rows:,}", "total": f"{job.total_rows:,}"},
    }


def _status_context(job: ImportJob) -> dict:
    keys = (
        imports.INTENT_COUNT_KEYS if job.kind == ImportJob.Kind.INTENT else imports.LEAD_COUNT_KEYS
    )
    counts = job.counts or {}
    has_content = bool(job.content)
    return {
        "job": job,
        "message": imports.import_job_message(job=job),
        "badge": STATUS_BADGES.get(job.status, "text-bg-secondary"),
        "progress": _progress_context(job) if job.is_running else None,
        "cards": [(str(imports.COUNT_LABELS.get(k, k)), counts.get(k, 0)) for k in keys]
        if job.status in {ImportJob.Status.CHECKED, ImportJob.Status.DONE}
        else [],
        "rows_merged": counts.get("rows_merged", 0),
        "errors": imports.import_job_errors(job=job),
        "errors_hidden": max(0, job.error_count - len(job.errors or [])),
        "can_check": has_content and job.status in _CHECKABLE,
        "can_commit": has_content and job.status == ImportJob.Status.CHECKED,
        "is_purged": not has_content,
    }


@role_required(can_import_leads)
def import_list(request):
    if request.method == "POST":
        form = ImportUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                job = imports.import_job_create(
                    actor=request.user,
                    file_name=upload.name,
                    data=upload.read(),
                    kind=form.cleaned_data["kind"],
                )
            except imports.ImportFileError as exc:
                form.add_error("file", exc.message)
            else:
                return redirect("leads:import-detail", job.id)
    else:
        form = ImportUploadForm()
    jobs = list(imports.import_job_list_for(actor=request.user))
    context = {
        "form": form,
        "jobs": [(job, STATUS_BADGES.get(job.status, "text-bg-secondary")) for job in jobs],
        "lead_columns": _accepted_columns(csvio.KIND_LEADS),
        "intent_columns": _accepted_columns(csvio.KIND_INTENT),
    }
    return render(request, "leads/import_list.html", context, status=400 if form.errors else 200)


@role_required(can_import_leads)
def import_detail(request, job_id: int):
    job = imports.import_job_get_for(actor=request.user, job_id=job_id)
    context = _status_context(job)
    if request.htmx:
        return render(request, "leads/_import_status.html", context)
    context["preview"] = imports.import_job_preview(job=job)
    return render(request, "leads/import_detail.html", context)


@role_required(can_import_leads)
def import_progress(request, job_id: int):
    job = imports.import_job_get_for(actor=request.user, job_id=job_id)
    if not job.is_running and request.htmx:
        # Finished: reload the page so that the results and buttons update too.
        return HttpResponseClientRefresh()
    return render(request, "includes/_progress.html", _progress_context(job))


@role_required(can_import_leads)
@require_POST
def import_check(request, job_id: int):
    job = imports.import_job_get_for(actor=request.user, job_id=job_id)
    try:
        imports.import_job_queue(actor=request.user, job_id=job.id, step="check")
    except imports.ImportJobStateError:
        messages.warning(request, gettext("This file cannot be checked now; see its status."))
    else:
        transaction.on_commit(lambda: background.send(import_job_check_task, job.id))
    return redirect("leads:import-detail", job.id)


@role_required(can_import_leads)
@require_POST
def import_commit(request, job_id: int):
    job = imports.import_job_get_for(actor=request.user, job_id=job_id)
    try:
        imports.import_job_queue(actor=request.user, job_id=job.id, step="commit")
    except imports.ImportJobStateError:
        # A second click, or no clean dry run yet: nothing is queued twice.
        messages.warning(
            request,
            gettext("Only a file whose dry run found no errors can be imported, and only once."),
        )
    else:
        transaction.on_commit(lambda: background.send(import_job_commit_task, job.id))
    return redirect("leads:import-detail", job.id)
