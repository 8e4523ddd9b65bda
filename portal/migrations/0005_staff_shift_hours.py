from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("portal", "0004_owner_notices"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="shift_start",
            field=models.TimeField(
                blank=True, null=True, verbose_name="shift starts",
                help_text="Optional. Oversight flags access outside these hours (city time). Set both or neither.",
            ),
        ),
        migrations.AddField(
            model_name="user",
            name="shift_end",
            field=models.TimeField(
                blank=True, null=True, verbose_name="shift ends",
                help_text="A shift ending before it starts runs past midnight (22:00 to 06:00).",
            ),
        ),
    ]
