"""The threshold review's pages: history, one review, the run form, settings and schedule."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.decorators import role_required
from feedback import selectors
from feedback.forms import ReviewRunForm, ReviewScheduleForm, ReviewSettingsForm
from feedback.models import ThresholdReview
from feedback.permissions import (
    can_edit_review_schedule,
    can_edit_review_settings,
    can_run_review,
    can_view_reviews,
)
from feedback.review.thresholds import MIN_AT_THRESHOLD
from feedback.services import review as review_services
from scoring.models import Band

FLAG_LABELS = {
    "predicts_rejection": gettext_lazy("predicts rejection"),
    "never_matters": gettext_lazy("never matters"),
    "too_rare": gettext_lazy("too rare to judge"),
    "uncertain": gettext_lazy("not clear either way"),
}


def _label(labels: dict, key: str) -> str:
    texts = labels.get(key) or {}
    lang = (get_language() or "ja")[:2]
    return texts.get(lang) or texts.get("") or next(iter(texts.values()), key)


def _pct(value) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def _review_row(review: ThresholdReview) -> dict:
    report = review.report or {}
    effect = None
    version = review.proposed_version
    if version is not None and version.status in ("active", "retired"):
        effect = selectors.version_effect(version, days=report.get("days") or 30)
    return {"review": review, "report": report, "effect": effect, "version": version}


@role_required(can_view_reviews)
def review_list(request):
    reviews = [_review_row(r) for r in selectors.reviews_list()]
    return render(
        request,
        "feedback/review_list.html",
        {
            "rows": reviews,
            "can_run": can_run_review(request.user),
            "can_settings": can_edit_review_settings(request.user)
            or can_edit_review_schedule(request.user),
            "running": selectors.review_running(),
        },
    )


def _progress_context(review: ThresholdReview) -> dict:
    running = review.status in (ThresholdReview.Status.QUEUED, ThresholdReview.Status.RUNNING)
    return {"review": review, "running": running, "percent": review.progress if running else 100}


@role_required(can_view_reviews)
def review_progress(request, review_id: int):
    review = get_object_or_404(ThresholdReview, pk=review_id)
    context = _progress_context(review)
    response = render(request, "feedback/_review_progress.html", context)
    if not context["running"] and request.htmx:
        # Finished: the whole page now has a report to show.
        response["HX-Refresh"] = "true"
    return response


@role_required(can_view_reviews)
def review_detail(request, review_id: int):
    review = get_object_or_404(
        ThresholdReview.objects.select_related("requested_by", "based_on", "proposed_version"),
        pk=review_id,
    )
    report = review.report or {}
    labels = report.get("labels", {})
    rules = [
        rule
        | {
            "label": _label(labels, rule["key"]),
            "flag_labels": [(f, str(FLAG_LABELS.get(f, f))) for f in rule["flags"]],
            "changed": rule["key"] in report.get("changes", {}).get("points", {}),
            "acceptance_hit_text": _pct(rule["acceptance_hit"]),
        }
        for rule in report.get("rules", [])
    ]
    bands = [
        {"band": band, "label": Band(band).label, **rate}
        for band, rate in report.get("bands", {}).items()
        if rate["n"]
    ]
    # The curve where it is judged on enough MQLs; its thin tail would only show noise.
    enough = MIN_AT_THRESHOLD
    chart = {
        "current": [
            [p["threshold"], p["acceptance"], p["n"]]
            for p in report.get("curve", [])
            if p["n"] >= enough
        ],
        "proposed": [
            [p["threshold"], p["acceptance"], p["n"]]
            for p in report.get("curve_proposed", [])
            if p["n"] >= enough
        ],
        "target": report.get("settings", {}).get("acceptance_target"),
        "labels": {
            "current": _("Acceptance, current points"),
            "proposed": _("Acceptance, proposed points"),
            "target": _("Target"),
            "x": _("Hot threshold (points)"),
            "y": _("Accepted share of MQLs at or above it"),
        },
    }
    version = review.proposed_version
    context = {
        "review": review,
        "report": report,
        "rules": rules,
        "bands": bands,
        "chart": chart,
        "version": version,
        "effect": _review_row(review)["effect"],
        "can_submit": bool(
            version is not None and version.status == "draft" and can_run_review(request.user)
        ),
        **_progress_context(review),
    }
    return render(request, "feedback/review_detail.html", context)


@role_required(can_run_review)
def review_run(request):
    today = timezone.localdate()
    start, end = review_services.previous_month(today)
    form = ReviewRunForm(request.POST or None, initial={"period_start": start, "period_end": end})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                review = review_services.review_request(
                    actor=request.user,
                    period_start=form.cleaned_data["period_start"],
                    period_end=form.cleaned_data["period_end"],
                    language=request.LANGUAGE_CODE,
                )
            except ValidationError as exc:
                if hasattr(exc, "error_dict"):
                    for field, errors in exc.message_dict.items():
                        form.add_error(field if field in form.fields else None, errors)
                else:
                    form.add_error(None, exc.messages)
            else:
                review.refresh_from_db()  # run at once where there is no separate worker
                if review.status == ThresholdReview.Status.DONE:
                    messages.success(request, _("The review is done."))
                elif review.status == ThresholdReview.Status.FAILED:
                    messages.error(request, _("The review failed. Its page says why."))
                else:
                    messages.success(request, _("The review is running."))
                return redirect("feedback:review-detail", review_id=review.pk)
        status = 400
    return render(
        request,
        "feedback/review_run.html",
        {"form": form, "running": selectors.review_running()},
        status=status,
    )


@require_POST
@role_required(can_run_review)
def review_submit(request, review_id: int):
    review = get_object_or_404(ThresholdReview, pk=review_id)
    try:
        review_services.review_proposal_submit(actor=request.user, review_id=review.pk)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(
            request, _("Sent for approval: marketing and a sales manager now each decide.")
        )
    return redirect("feedback:review-detail", review_id=review.pk)


def _can_open_settings(user) -> bool:
    return can_edit_review_settings(user) or can_edit_review_schedule(user)


@role_required(_can_open_settings)
def review_settings(request):
    row = review_services.review_settings_get()
    schedule = review_services.review_schedule_get()
    initial = {
        "acceptance_target": row.acceptance_target,
        "min_decided": row.min_decided,
        "calls_per_rep_week": row.calls_per_rep_week,
    }
    form = ReviewSettingsForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if not can_edit_review_settings(request.user):
            raise PermissionDenied
        if form.is_valid():
            try:
                review_services.review_settings_update(actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc.messages)
            else:
                messages.success(request, _("The review's target is saved."))
                return redirect("feedback:review-settings")
        status = 400
    schedule_form = ReviewScheduleForm(
        initial=None
        if schedule is None
        else {
            "minute": schedule.minute,
            "hour": schedule.hour,
            "day_of_month": schedule.day_of_month,
            "month_of_year": schedule.month_of_year,
            "day_of_week": schedule.day_of_week,
            "enabled": schedule.enabled,
        }
    )
    return render(
        request,
        "feedback/review_settings.html",
        _settings_context(request, form, schedule_form, schedule, row),
        status=status,
    )


def _settings_context(request, form, schedule_form, schedule, row) -> dict:
    return {
        "form": form,
        "schedule_form": schedule_form,
        "schedule": schedule,
        "row": row,
        "can_edit_settings": can_edit_review_settings(request.user),
        "can_edit_schedule": can_edit_review_schedule(request.user),
    }


@require_POST
@role_required(can_edit_review_schedule)
def review_schedule(request):
    form = ReviewScheduleForm(request.POST)
    if form.is_valid():
        try:
            review_services.review_schedule_update(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            for field, errors in getattr(exc, "message_dict", {"__all__": exc.messages}).items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("The review's schedule is saved."))
            return redirect("feedback:review-settings")
    row = review_services.review_settings_get()
    settings_form = ReviewSettingsForm(
        initial={
            "acceptance_target": row.acceptance_target,
            "min_decided": row.min_decided,
            "calls_per_rep_week": row.calls_per_rep_week,
        }
    )
    return render(
        request,
        "feedback/review_settings.html",
        _settings_context(request, settings_form, form, review_services.review_schedule_get(), row),
        status=400,
    )
