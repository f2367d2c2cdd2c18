from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.views import LoginView
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.decorators import role_required
from accounts.models import ApiToken
from accounts.permissions import can_manage_api_tokens
from accounts.services import api_token_create, api_token_revoke


class PortalLoginView(LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


class TokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Integration name"),
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("e.g. Marketo production")}),
    )


@role_required(can_manage_api_tokens)
def token_list(request):
    issued = None
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            issued = api_token_create(name=form.cleaned_data["name"], actor=request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            form = TokenForm()
    tokens = ApiToken.objects.select_related("created_by").all()
    return render(
        request, "accounts/token_list.html", {"tokens": tokens, "form": form, "issued": issued}
    )


@require_POST
@role_required(can_manage_api_tokens)
def token_revoke(request, token_id: int):
    token = api_token_revoke(token_id=token_id, actor=request.user)
    messages.success(request, _("Token “%(name)s” was revoked.") % {"name": token.name})
    return redirect("accounts:token-list")
