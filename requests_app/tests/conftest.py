from datetime import timedelta

import pytest
from django.utils import timezone

from cameras.tests.factories import CameraFactory
from portal.tests.factories import OwnerFactory, sign_waiver
from requests_app import services
from requests_app.models import FootageRequest
from requests_app.tests.factories import IncidentFactory
from requests_app.tests.smtp import smtp_server_fixture  # noqa: F401  (fixture)


@pytest.fixture
def uploader(client, resident, login):
    """The resident's test client, signed in (CSRF checks off, as Django's test client has them)."""
    return login(client, resident)


@pytest.fixture
def approved_request(operator, waivers, settings, tmp_path):
    settings.FOOTAGE_ROOT = tmp_path / "footage"
    incident = IncidentFactory()
    owner = OwnerFactory()
    sign_waiver(owner)
    CameraFactory(owner=owner, latitude=incident.latitude, longitude=incident.longitude)
    end = timezone.now() - timedelta(hours=1)
    services.area_request_create(incident=incident, sender=operator, latitude=incident.latitude,
                                 longitude=incident.longitude, radius_m=100, window_start=end - timedelta(hours=1),
                                 window_end=end)
    footage_request = FootageRequest.objects.get()
    return services.footage_request_approve(footage_request=footage_request)


def send_request_to_one_owner(operator):
    """An incident, one owner with a camera there, an area request sent; returns the owner's FootageRequest."""
    incident = IncidentFactory()
    owner = OwnerFactory()
    sign_waiver(owner)
    CameraFactory(owner=owner, latitude=incident.latitude, longitude=incident.longitude)
    end = timezone.now() - timedelta(hours=1)
    services.area_request_create(incident=incident, sender=operator, latitude=incident.latitude,
                                 longitude=incident.longitude, radius_m=100, window_start=end - timedelta(hours=1),
                                 window_end=end)
    return FootageRequest.objects.get(owner=owner)
