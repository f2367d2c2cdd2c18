"""The OpenAPI schema and its docs page, for signed-in people and integrations only.

The schema lists every endpoint, field and filter: a map for whoever probes the
API. Unless ``API_DOCS_PUBLIC`` opens them, ``/api/schema/`` answers 401 to a
request without a session or a valid token (an integration fetches it with its
bearer token), and ``/api/docs/`` sends an anonymous visitor to the login page.
The setting is read per request, not when the views are built.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import BasePermission


class CanReadApiDocs(BasePermission):
    def has_permission(self, request, view) -> bool:
        return settings.API_DOCS_PUBLIC or bool(request.user and request.user.is_authenticated)


class SchemaView(SpectacularAPIView):
    permission_classes = [CanReadApiDocs]


class DocsView(SpectacularSwaggerSplitView):
    """Swagger UI with its settings in a script of their own (``?script``), not inline.

    Its template moves the page's inline <style> to static/css/swagger.css: the
    Content-Security-Policy allows neither inline scripts nor inline styles.
    """

    permission_classes = [CanReadApiDocs]
    template_name = "api/swagger_ui.html"


def docs_view(url_name: str):
    view = DocsView.as_view(url_name=url_name)

    def docs(request, *args, **kwargs):
        # A person opens this page in a browser: a login page, not a bare 401.
        if not settings.API_DOCS_PUBLIC and not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return docs
