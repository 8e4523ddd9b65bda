import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):
    """Street addresses for the camera form's address search (cameras/geocoding.py)."""

    dependencies = [
        ('cameras', '0006_search_index_includes_loaded_columns'),
    ]

    operations = [
        migrations.CreateModel(
            name='Address',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('number', models.CharField(max_length=32, verbose_name='number')),
                ('street', models.CharField(max_length=200, verbose_name='street')),
                ('unit', models.CharField(blank=True, max_length=64, verbose_name='unit')),
                ('city', models.CharField(blank=True, max_length=100, verbose_name='city')),
                ('postcode', models.CharField(blank=True, max_length=20, verbose_name='postcode')),
                ('latitude', models.FloatField(validators=[django.core.validators.MinValueValidator(-90), django.core.validators.MaxValueValidator(90)], verbose_name='latitude')),
                ('longitude', models.FloatField(validators=[django.core.validators.MinValueValidator(-180), django.core.validators.MaxValueValidator(180)], verbose_name='longitude')),
                ('search_text', models.CharField(editable=False, max_length=500)),
                ('street_text', models.CharField(editable=False, max_length=500)),
                ('source_key', models.CharField(editable=False, max_length=64, unique=True)),
            ],
            options={
                'verbose_name': 'address',
                'verbose_name_plural': 'addresses',
                'ordering': ['street', 'number', 'unit', 'pk'],
                'indexes': [models.Index(fields=['search_text'], name='address_search_text', opclasses=['varchar_pattern_ops']), models.Index(fields=['street_text'], name='address_street_text', opclasses=['varchar_pattern_ops'])],
            },
        ),
    ]
