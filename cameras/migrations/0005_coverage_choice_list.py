from django.db import migrations

import cameras.models


class Migration(migrations.Migration):
    """The column is unchanged (JSON); only the field's Python class is new, so nothing runs in SQL."""

    dependencies = [
        ("cameras", "0004_camera_lat_band_no_updated_at"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="camera",
                    name="coverage",
                    field=cameras.models.ChoiceListField(blank=True, default=list, verbose_name="what it covers"),
                ),
            ],
        ),
    ]
