"""The settings row, and the pain points and form fields a team starts from."""

from django.db import migrations

PAIN_POINTS = [
    ("lead_handling", "リード対応が属人的", "Lead follow-up depends on individuals"),
    ("no_visibility", "営業活動が見えない", "No visibility into sales activity"),
    ("mkt_sales_gap", "マーケと営業の連携不足", "Marketing and sales are not aligned"),
    ("manual_reports", "集計・報告が手作業", "Reporting is manual"),
    ("low_conversion", "商談化率が低い", "Few leads become opportunities"),
    ("scattered_tools", "ツールやデータが分散", "Tools and data are scattered"),
    ("cost_reduction", "コスト削減", "Cost reduction"),
    ("compliance", "セキュリティ・コンプライアンス", "Security and compliance"),
    ("other", "その他", "Other"),
]
# Property names MA tools commonly give inquiry-form answers (Japanese and English).
FORM_FIELDS = [
    ("budget", "budget"), ("予算", "budget"),
    ("authority", "authority"), ("role", "authority"), ("決裁権限", "authority"), ("役割", "authority"),
    ("need", "need"), ("課題", "need"), ("お問い合わせ内容", "need"),
    ("timeframe", "timeframe"), ("導入時期", "timeframe"), ("検討時期", "timeframe"),
]  # fmt: skip


def forwards(apps, schema_editor):
    apps.get_model("handoff", "HandoffSettings").objects.get_or_create(pk=1)
    PainPoint = apps.get_model("handoff", "PainPoint")
    for order, (code, ja, en) in enumerate(PAIN_POINTS):
        PainPoint.objects.get_or_create(
            code=code, defaults={"label_ja": ja, "label_en": en, "order": order}
        )
    FormBantField = apps.get_model("handoff", "FormBantField")
    for name, item in FORM_FIELDS:
        FormBantField.objects.get_or_create(property_name=name, defaults={"item": item})


class Migration(migrations.Migration):
    dependencies = [("handoff", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
