"""Spec format 2: a rule's label is {language: text}.

Format 1 stored one text for both languages; the starter definition wrote them side
by side ("デモ・見積依頼 / Demo or pricing request"). Such a label is split into its
Japanese and English halves; any other label stays one text for every language.
The definition's meaning does not change, so no audit entry is written.
"""

from django.db import migrations

CATEGORIES = ("attributes", "behaviour", "intents")


def _split(label):
    if isinstance(label, str) and label.count(" / ") == 1:
        ja, en = (part.strip() for part in label.split(" / "))
        if ja and en:
            return {"en": en, "ja": ja}
    return label


def forwards(apps, schema_editor):
    DefinitionVersion = apps.get_model("scoring", "DefinitionVersion")
    for version in DefinitionVersion.objects.all():
        spec = dict(version.spec)
        for category in CATEGORIES:
            spec[category] = [
                {**rule, "label": _split(rule.get("label"))} for rule in spec.get(category, [])
            ]
        spec["format"] = 2
        # update(), not save(): updated_at is the stale-edit check's clock.
        DefinitionVersion.objects.filter(pk=version.pk).update(spec=spec)


def backwards(apps, schema_editor):
    DefinitionVersion = apps.get_model("scoring", "DefinitionVersion")
    for version in DefinitionVersion.objects.all():
        spec = dict(version.spec)
        for category in CATEGORIES:
            rules = []
            for rule in spec.get(category, []):
                label = rule.get("label")
                if isinstance(label, dict):
                    label = " / ".join(t for t in (label.get("ja"), label.get("en")) if t)
                rules.append({**rule, "label": label})
            spec[category] = rules
        spec["format"] = 1
        DefinitionVersion.objects.filter(pk=version.pk).update(spec=spec)


class Migration(migrations.Migration):
    dependencies = [("scoring", "0005_running_totals")]

    operations = [migrations.RunPython(forwards, backwards)]
