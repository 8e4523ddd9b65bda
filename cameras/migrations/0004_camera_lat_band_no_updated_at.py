import math

from django.db import migrations, models

BANDS_PER_DEGREE = 100  # as cameras.geo.BANDS_PER_DEGREE when this migration was written


def fill_bands(apps, schema_editor):
    Camera = apps.get_model("cameras", "Camera")
    cameras = list(Camera.objects.only("pk", "latitude"))
    for camera in cameras:
        camera.lat_band = math.floor(camera.latitude * BANDS_PER_DEGREE)
    Camera.objects.bulk_update(cameras, ["lat_band"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [("cameras", "0003_live_schedules")]

    operations = [
        migrations.AddField(model_name="camera", name="lat_band", field=models.IntegerField(default=0, editable=False),
                            preserve_default=False),
        migrations.RunPython(fill_bands, migrations.RunPython.noop),
        migrations.RemoveField(model_name="camera", name="updated_at"),
        migrations.RemoveIndex(model_name="camera", name="camera_lat_lng"),
        migrations.AddIndex(model_name="camera",
                            index=models.Index(fields=["lat_band", "longitude", "latitude"], name="camera_band_lng_lat")),
    ]
