"""The draft editor (marketing, drafts only). Thin: the forms build the spec, the service saves it."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext

from accounts.decorators import role_required
from scoring import selectors
from scoring.forms import DefinitionEditor
from scoring.models import DefinitionVersion
from scoring.permissions import can_draft_definition
from scoring.services import definitions
from scoring.views import display


@role_required(can_draft_definition)
def version_edit(request, version_id: int):
    version = selectors.version_get(version_id=version_id)
    if version.status != DefinitionVersion.Status.DRAFT:
        messages.warning(
            request,
            gettext("Only a draft can be edited. Make a new draft from this version instead."),
        )
        return redirect("scoring:version-detail", version.pk)
    is_post = request.method == "POST"
    stale = ""
    editor = DefinitionEditor(version=version, data=request.POST if is_post else None)
    if is_post and editor.is_valid():
        meta = editor.meta.cleaned_data
        try:
            version = definitions.draft_update(
                actor=request.user,
                version=version,
                spec=editor.spec(),
                title=meta["title"],
                change_note=meta["change_note"],
                opened_at=meta["opened_at"] or None,
            )
        except definitions.StaleDraft as exc:
            # Keep what they typed; saving once more (knowingly) replaces the newer draft.
            data = request.POST.copy()
            data["opened_at"] = exc.updated_at.isoformat()
            editor = DefinitionEditor(version=version, data=data)
            editor.is_valid()
            stale = exc.messages[0]
        except ValidationError as exc:
            editor.add_service_error(exc)
        else:
            if "submit" not in request.POST:
                messages.success(request, gettext("Draft saved."))
                return redirect("scoring:version-detail", version.pk)
            try:
                definitions.draft_submit(actor=request.user, version=version)
            except ValidationError as exc:
                # The draft is saved already; only the submission is refused.
                editor.add_service_error(exc)
                messages.warning(request, gettext("Draft saved, but not submitted."))
            else:
                messages.success(
                    request,
                    gettext("Saved and submitted: marketing and a sales manager can now decide."),
                )
                return redirect("scoring:version-detail", version.pk)
    context = {
        "version": version,
        "editor": editor,
        "stale": stale,
        "category_labels": display.CATEGORY_LABELS,
        "op_placeholders": {
            "eq": gettext("a value"),
            "in": "E, G",
            "not_in": "E, G",
            "contains_any": gettext("manager, director"),
            "ends_with_any": "gmail.com, yahoo.co.jp",
            "gte": "300",
            "lte": "50",
            "between": "100, 999",
            "is_true": "",
            "is_false": "",
        },
    }
    return render(request, "scoring/version_edit.html", context, status=400 if is_post else 200)
