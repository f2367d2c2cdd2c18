"""The review settings row and the rejection reasons a team starts from."""

from django.db import migrations

# (code, Japanese, English, offered for, permanent)
REASONS = [
    ("unreachable", "SLA内の架電で連絡がつかない", "Could not reach within the SLA's attempts", "both", False),
    ("bad_contact_data", "連絡先が誤り・虚偽", "Wrong or fake contact data", "both", True),
    ("no_need", "ニーズなし", "No need", "both", False),
    ("no_budget", "予算なし", "No budget", "both", False),
    ("not_decision_maker", "決裁者・関与者ではない", "Not the decision maker", "both", False),
    ("timing", "時期が合わない", "Timing", "both", False),
    ("competitor", "競合他社・競合製品を採用", "Competitor", "both", False),
    ("student_job_seeker", "学生・求職者", "Student or job seeker", "both", True),
    ("existing_customer", "既存顧客", "Existing customer", "both", True),
    ("duplicate", "重複リード", "Duplicate", "both", True),
    ("company_too_small", "企業規模が小さすぎる", "Company too small", "both", True),
]  # fmt: skip


def forwards(apps, schema_editor):
    apps.get_model("feedback", "ReviewSettings").objects.get_or_create(pk=1)
    Reason = apps.get_model("feedback", "Reason")
    for order, (code, ja, en, applies_to, permanent) in enumerate(REASONS):
        Reason.objects.get_or_create(
            code=code,
            defaults={
                "label_ja": ja,
                "label_en": en,
                "applies_to": applies_to,
                "is_permanent": permanent,
                "order": order * 10,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("feedback", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
