"""The threshold review's beat entry: monthly by default, editable in the UI (django-celery-beat).

At 06:00 Japan time on the 1st, the review of the month before. Admins change the
crontab on /feedback/reviews/settings/ (or in the Django admin); beat's database
scheduler (CELERY_BEAT_SCHEDULER) picks the change up without a restart.
"""

from django.db import migrations

TASK_NAME = "feedback-threshold-review"


def forwards(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="0", hour="6", day_of_month="1", month_of_year="*", day_of_week="*",
        timezone="Asia/Tokyo",
    )  # fmt: skip
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={"task": "feedback.tasks.review_scheduled", "crontab": crontab, "enabled": True},
    )


def backwards(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0002_defaults"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
