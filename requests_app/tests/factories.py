from datetime import timedelta

import factory
from django.utils import timezone

from incidents.models import Incident


class IncidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Incident

    reference = factory.Sequence(lambda n: f"2026-{n + 1:06d}")
    incident_type = Incident.Type.BURGLARY
    case_number = factory.Sequence(lambda n: f"CASE-{n:05d}")
    latitude = 40.7128
    longitude = -74.0060
    address = "100 Main St"
    window_start = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=3))
    window_end = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
