from django.db import migrations

# (name, task, schedule type, minutes): "I" every N minutes, "H" hourly, "D" daily (django-q2).
SCHEDULES = [
    ("Retry failed request e-mails", "requests_app.tasks.retry_failed_emails", "I", 1),
    ("Expire unanswered requests", "requests_app.tasks.expire_footage_requests", "H", None),
    ("Send reminders", "requests_app.tasks.send_reminders", "H", None),
    ("Delete expired uploads", "requests_app.tasks.delete_expired_uploads", "H", None),
    ("Purge by retention rules", "requests_app.tasks.purge_by_retention_rules", "D", None),
]


def create_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    for name, func, schedule_type, minutes in SCHEDULES:
        Schedule.objects.update_or_create(name=name, defaults={"func": func, "schedule_type": schedule_type,
                                                               "minutes": minutes, "repeats": -1})


def remove_schedules(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name__in=[name for name, *_ in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("requests_app", "0002_submission_purged"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedules, remove_schedules)]
