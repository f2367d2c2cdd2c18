from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from config.api_docs import SchemaView, docs_view
from portal.views.home import home

urlpatterns = [
    path("", home, name="home"),
    path("", include("portal.urls")),
    path("accounts/", include("accounts.urls")),
    path("leads/", include("leads.urls")),
    path("scoring/", include("scoring.urls")),
    path("handoff/", include("handoff.urls")),
    path("feedback/", include("feedback.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("api/v1/", include("leads.api.urls")),
    path("api/v1/", include("scoring.api.urls")),
    path("api/v1/", include("handoff.api.urls")),
    path("api/v1/", include("feedback.api.urls")),
    path("api/schema/", SchemaView.as_view(), name="api-schema"),
    path("api/docs/", docs_view("api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]
