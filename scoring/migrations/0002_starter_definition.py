from django.db import migrations
from django.utils import timezone


def install_starter(apps, schema_editor):
    """A new installation scores from day one with the built-in starter definition."""
    from scoring.engine import starter_definition
    from scoring.spec import spec_from_definition

    DefinitionVersion = apps.get_model("scoring", "DefinitionVersion")
    AuditEntry = apps.get_model("scoring", "AuditEntry")
    if DefinitionVersion.objects.exists():
        return
    now = timezone.now()
    version = DefinitionVersion.objects.create(
        number=1,
        title="スターター定義（B2Bの一般的な基準） / Starter definition (common B2B practice)",
        change_note=(
            "ポータルに同梱。コピーを編集し、マーケティングと営業の承認を得てください。 / "
            "Installed with the portal. Edit a copy and have marketing and sales approve it."
        ),
        spec=spec_from_definition(starter_definition()),
        status="active",
        activated_at=now,
    )
    AuditEntry.objects.create(
        version=version, action="activated", detail={"comment": "built-in starter definition"}
    )


class Migration(migrations.Migration):
    dependencies = [("scoring", "0001_initial")]

    operations = [migrations.RunPython(install_starter, migrations.RunPython.noop)]
