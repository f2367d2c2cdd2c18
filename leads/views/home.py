from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from leads import selectors
from leads.permissions import can_import_leads, can_view_leads


def home(request):
    """The dashboard; an anonymous visitor is sent to the login page."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not can_view_leads(request.user):
        raise PermissionDenied
    figures = selectors.dashboard_figures(actor=request.user)
    context = {
        "figures": figures,
        "can_import": can_import_leads(request.user),
        "chart": {
            "days": [d for d, _ in figures.activity_by_day],
            "counts": [n for _, n in figures.activity_by_day],
            "topics": [t for t, _ in figures.top_intent_topics],
            "topic_counts": [n for _, n in figures.top_intent_topics],
        },
    }
    return render(request, "home.html", context)
