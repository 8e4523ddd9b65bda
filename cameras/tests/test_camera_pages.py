from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cameras.models import Camera, SharingRules
from cameras.services import PAUSED_UNTIL_RESUMED
from cameras.tests.factories import CameraFactory
from portal.models import AuditEvent
from portal.tests.factories import sign_waiver

pytestmark = pytest.mark.django_db

CAMERA_FORM = {"name": "Front porch", "address": "12 Oak Ave", "latitude": "40.712800", "longitude": "-74.006000",
               "site_kind": "home", "coverage": ["street", "entrance"], "direction_degrees": "90",
               "access_level": "registered"}


@pytest.fixture
def signed_resident(resident, waivers):
    sign_waiver(resident)
    return resident


@pytest.fixture
def signed_business(business, waivers):
    sign_waiver(business)
    return business


def rules_form(**overrides):
    data = {"live_mode": "never", "schedule_days": [], "schedule_start": "", "schedule_end": "",
            "incident_radius_m": "200", "incident_minutes": "60", "accept_requests": "on",
            "location_precision": "exact", "paused_until": ""}
    data.update(overrides)
    return data


def test_a_resident_registers_a_camera_and_is_sent_to_the_rules(client, signed_resident, login):
    login(client, signed_resident)

    response = client.post(reverse("cameras:create"), CAMERA_FORM)

    camera = Camera.objects.get(owner=signed_resident)
    assert response["Location"] == reverse("cameras:rules", args=[camera.pk])
    assert (camera.latitude, camera.longitude, camera.coverage) == (40.7128, -74.006, ["street", "entrance"])
    assert camera.rules.live_mode == "never" and camera.rules.accept_requests
    assert AuditEvent.objects.filter(action="camera.registered", camera=camera).exists()


@pytest.mark.parametrize(("field", "value", "message"), [
    ("latitude", "91", "Ensure this value is less than or equal to 90."),
    ("longitude", "", "This field is required."),
    ("name", "", "This field is required."),
    ("direction_degrees", "360", "Ensure this value is less than or equal to 359."),
    ("coverage", ["ceiling"], "Select a valid choice."),
])
def test_bad_camera_input_is_explained_and_nothing_is_saved(client, signed_resident, login, field, value, message):
    login(client, signed_resident)

    response = client.post(reverse("cameras:create"), {**CAMERA_FORM, field: value})

    assert message in str(response.context["form"].errors[field])
    assert not Camera.objects.exists()
    assert response.context["form"]["address"].value() == "12 Oak Ave"


def test_a_weekday_schedule_is_saved_and_shown_in_plain_words(client, signed_business, login):
    camera = CameraFactory(owner=signed_business, access_level="integrated")
    login(client, signed_business)

    response = client.post(reverse("cameras:rules", args=[camera.pk]), rules_form(
        live_mode="schedule", schedule_days=["0", "1", "2", "3", "4"], schedule_start="18:00",
        schedule_end="07:00"))

    assert response.status_code == 302
    camera.rules.refresh_from_db()
    assert camera.rules.schedule == [{"days": [0, 1, 2, 3, 4], "start": "18:00", "end": "07:00"}]
    assert "Live access: weekdays 18:00–07:00" in client.get(reverse("portal:dashboard")).content.decode()
    event = AuditEvent.objects.get(action="rules.changed", camera=camera)
    assert event.details["changed"]["live_mode"] == "schedule"


def test_a_schedule_without_days_is_refused(client, signed_business, login):
    camera = CameraFactory(owner=signed_business, access_level="integrated")
    login(client, signed_business)

    response = client.post(reverse("cameras:rules", args=[camera.pk]), rules_form(live_mode="schedule"))

    assert "Needed for a weekly schedule." in str(response.context["form"].errors["schedule_days"])
    camera.rules.refresh_from_db()
    assert camera.rules.live_mode == "never"


def test_a_registered_camera_cannot_be_opened_for_live_viewing(client, signed_resident, login):
    camera = CameraFactory(owner=signed_resident)
    login(client, signed_resident)

    response = client.post(reverse("cameras:rules", args=[camera.pk]), rules_form(live_mode="always"))

    assert "live_mode" in response.context["form"].errors
    camera.rules.refresh_from_db()
    assert camera.rules.live_mode == "never"


def test_rules_apply_to_all_cameras_but_live_rules_only_where_integrated(client, signed_business, login):
    source = CameraFactory(owner=signed_business, access_level="integrated")
    integrated = CameraFactory(owner=signed_business, access_level="integrated")
    registered = CameraFactory(owner=signed_business)
    someone_elses = CameraFactory()
    login(client, signed_business)

    client.post(reverse("cameras:rules", args=[source.pk]), rules_form(
        live_mode="always", accept_requests="", location_precision="approximate", apply_to_all="on"))

    rules = {camera.pk: SharingRules.objects.get(camera=camera) for camera in (integrated, registered, someone_elses)}
    assert (rules[integrated.pk].live_mode, rules[integrated.pk].location_precision) == ("always", "approximate")
    assert (rules[registered.pk].live_mode, rules[registered.pk].accept_requests) == ("never", False)
    assert rules[someone_elses.pk].location_precision == "exact"


def test_pause_now_pauses_every_camera_until_resumed(client, signed_resident, login):
    cameras = [CameraFactory(owner=signed_resident) for _ in range(2)]
    login(client, signed_resident)

    client.post(reverse("cameras:pause"), {"action": "pause_now"})

    assert all(SharingRules.objects.get(camera=c).paused_until == PAUSED_UNTIL_RESUMED for c in cameras)
    assert "Resume sharing now" in client.get(reverse("portal:dashboard")).content.decode()
    client.post(reverse("cameras:pause"), {"action": "resume"})
    assert all(SharingRules.objects.get(camera=c).paused_until is None for c in cameras)


def test_pause_until_a_date_and_a_date_in_the_past_is_refused(client, signed_resident, login):
    camera = CameraFactory(owner=signed_resident)
    login(client, signed_resident)
    tomorrow = timezone.localtime() + timedelta(days=1)

    client.post(reverse("cameras:pause"), {"action": "pause_until", "until": tomorrow.strftime("%Y-%m-%dT%H:%M")})
    camera.rules.refresh_from_db()
    minute = "%Y-%m-%dT%H:%M"
    assert timezone.localtime(camera.rules.paused_until).strftime(minute) == tomorrow.strftime(minute)

    client.post(reverse("cameras:pause"), {"action": "resume"})
    response = client.post(reverse("cameras:pause"), {"action": "pause_until", "until": "2020-01-01T10:00"},
                           follow=True)
    assert "Choose a time in the future." in response.content.decode()
    camera.rules.refresh_from_db()
    assert camera.rules.paused_until is None


def test_removing_a_camera_takes_it_out_of_staff_search(client, signed_resident, operator, login):
    camera = CameraFactory(owner=signed_resident, latitude=40.0, longitude=-75.0)
    login(client, signed_resident)

    client.post(reverse("cameras:delete", args=[camera.pk]))

    assert not Camera.objects.filter(pk=camera.pk).exists()
    client.logout()
    login(client, operator)
    found = client.get("/api/v1/cameras/", {"lat": 40.0, "lng": -75.0, "radius_m": 100}).json()
    assert found == []


def test_closing_the_account_removes_cameras_and_signs_out(client, signed_resident, login):
    CameraFactory(owner=signed_resident)
    login(client, signed_resident)

    response = client.post(reverse("portal:account_close"), {"confirm": "close"})

    assert response["Location"] == reverse("portal:home")
    signed_resident.refresh_from_db()
    assert not signed_resident.is_active and not signed_resident.has_usable_password()
    assert not Camera.objects.exists()
    assert client.get(reverse("portal:dashboard")).status_code == 302


def test_closing_needs_the_confirmation_tick(client, signed_resident, login):
    CameraFactory(owner=signed_resident)
    login(client, signed_resident)

    client.post(reverse("portal:account_close"), {})

    assert Camera.objects.count() == 1


def test_switching_a_camera_to_registered_closes_live_access_and_drops_the_stream(client, signed_business, login):
    from cameras.services import stream_source_set

    camera = CameraFactory(owner=signed_business, access_level="integrated", rules={"live_mode": "always"})
    stream_source_set(camera=camera, actor=signed_business, kind="mjpeg", url="http://cam.example.net/video")
    login(client, signed_business)

    client.post(reverse("cameras:edit", args=[camera.pk]), {**CAMERA_FORM, "access_level": "registered"})

    camera.refresh_from_db()
    assert camera.rules.live_mode == "never"
    assert not hasattr(camera, "stream")


def test_another_camera_starts_at_the_same_address(client, signed_resident, other_owner, login):
    first = CameraFactory(owner=signed_resident, address="12 Oak Ave", latitude=40.71, longitude=-74.01)
    theirs = CameraFactory(owner=other_owner, address="Secret Lane 1")
    login(client, signed_resident)

    form = client.get(reverse("cameras:create"), {"near": first.pk}).context["form"]
    assert (form["address"].value(), form["latitude"].value()) == ("12 Oak Ave", 40.71)

    form = client.get(reverse("cameras:create"), {"near": theirs.pk}).context["form"]
    assert form["address"].value() is None
