"""Forms for the leads pages. Validation of content lives in the services."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from leads.models import ImportJob


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("UTF-8 (with or without BOM) or Shift_JIS (CP932), comma or tab separated."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.tsv,text/csv"}),
    )
    kind = forms.ChoiceField(
        label=_("What the file holds"),
        choices=ImportJob.Kind.choices,
        initial=ImportJob.Kind.LEADS,
        widget=forms.RadioSelect,
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        # Checked before reading, so a huge upload is not loaded into memory.
        if upload.size > settings.IMPORT_MAX_FILE_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(mb)d MB; split it into smaller files."),
                params={"mb": settings.IMPORT_MAX_FILE_BYTES // (1024 * 1024)},
                code="too_big",
            )
        return upload
