from django.db import migrations, models


class Migration(migrations.Migration):
    """camera_band_lng_lat carries the columns searches read (PostgreSQL; SQLite rebuilds it as before)."""

    dependencies = [
        ("cameras", "0005_coverage_choice_list"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="camera", name="camera_band_lng_lat"),
        migrations.AddIndex(
            model_name="camera",
            index=models.Index(
                fields=["lat_band", "longitude", "latitude"],
                include=("unit_x", "unit_y", "unit_z", "id", "owner", "name", "address", "site_kind", "coverage",
                         "direction_degrees", "access_level"),
                name="camera_band_lng_lat",
            ),
        ),
    ]
