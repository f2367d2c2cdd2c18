"""The production static-files step works: every asset the pages reference is shipped."""

from __future__ import annotations

from django.core.management import call_command
from django.test import override_settings

PRODUCTION_STORAGE = "whitenoise.storage.CompressedManifestStaticFilesStorage"


def test_collectstatic_with_the_production_storage(tmp_path):
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": PRODUCTION_STORAGE},
    }
    with override_settings(STATIC_ROOT=tmp_path, STORAGES=storages):
        # Fails if a CSS/JS file names a file that is not there (e.g. a source map).
        call_command("collectstatic", interactive=False, verbosity=0)
    assert (tmp_path / "staticfiles.json").exists()


def test_the_500_page_renders_without_a_request():
    from django.template import loader

    html = loader.get_template("500.html").render({})
    assert "bootstrap.min.css" in html
    assert 'href="/"' in html
