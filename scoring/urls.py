from django.urls import path

from scoring.views import compare, editor, versions

app_name = "scoring"
urlpatterns = [
    path("", versions.version_list, name="version-list"),
    path("compare/", compare.version_compare, name="version-compare"),
    path("versions/<int:version_id>/", versions.version_detail, name="version-detail"),
    path("versions/<int:version_id>/edit/", editor.version_edit, name="version-edit"),
    path("versions/<int:version_id>/copy/", versions.version_copy, name="version-copy"),
    path("versions/<int:version_id>/submit/", versions.version_submit, name="version-submit"),
    path("versions/<int:version_id>/withdraw/", versions.version_withdraw, name="version-withdraw"),
    path("versions/<int:version_id>/decide/", versions.version_decide, name="version-decide"),
    path("versions/<int:version_id>/rescore/", versions.version_rescore, name="version-rescore"),
    path("rescores/<int:job_id>/progress/", versions.rescore_progress, name="rescore-progress"),
]
