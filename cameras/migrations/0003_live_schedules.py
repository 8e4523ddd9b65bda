from django.db import migrations

# (name, task, schedule type, minutes): "I" every N minutes (django-q2).
SCHEDULES = [
    ("End idle and expired live sessions", "cameras.tasks.end_stale_live_sessions", "I", 1),
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
        ("cameras", "0002_live_session"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedules, remove_schedules)]
