"""The incident's video wall: who may open it, what it lists, and how it explains each camera."""

import pytest
from django.utils import timezone

from cameras.models import Camera
from cameras.tests.test_live_sessions import live_camera
from incidents.models import Incident
from portal.models import AuditEvent
from portal.tests.factories import sign_waiver
from requests_app.tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db
ROLES = ["anonymous", "resident", "business", "officer", "operator", "supervisor", "oversight"]
LAT, LNG = 40.7128, -74.0060


@pytest.fixture
def incident(db):
    now = timezone.now()
    return IncidentFactory(latitude=LAT, longitude=LNG, source=Incident.Source.ALARM, external_id="A-1",
                           incident_type=Incident.Type.ALARM, window_start=now - timezone.timedelta(minutes=5),
                           window_end=now + timezone.timedelta(minutes=55))


def named_camera(owner, name, **options):
    camera = live_camera(owner, **options)
    Camera.objects.filter(pk=camera.pk).update(name=name)
    return camera


@pytest.fixture
def signed_business(business, waivers):
    sign_waiver(business)
    return business


#                       anon  res  bus  off  opr  sup  ovs
LIVE_PAGE = [302, 403, 403, 404, 200, 200, 403]


@pytest.mark.parametrize(("role", "expected"), list(zip(ROLES, LIVE_PAGE, strict=True)))
def test_the_video_wall_permission_table(client, request, login, incident, role, expected):
    if role != "anonymous":
        login(client, request.getfixturevalue(role))
    assert client.get(f"/staff/incidents/{incident.pk}/live/").status_code == expected


def test_an_assigned_officer_opens_the_phone_wall_with_tap_to_watch_tiles(client, login, officer, incident,
                                                                          signed_business):
    named_camera(signed_business, "Shop door")
    incident.assigned_officers.add(officer)
    login(client, officer)

    page = client.get(f"/staff/incidents/{incident.pk}/live/?view=phone").content.decode()

    assert "Shop door" in page
    assert 'data-autostart="false"' in page


def test_the_wall_docks_the_four_nearest_allowed_cameras_and_explains_refusals(client, login, operator, incident,
                                                                                signed_business):
    for metres in [300, 10, 200, 50, 120]:
        named_camera(signed_business, f"Camera at {metres} m", metres_north=metres)
    named_camera(signed_business, "Alarm-only camera", metres_north=80, live_mode="incident",
                incident_radius_m=100, incident_minutes=30)
    named_camera(signed_business, "Never camera", metres_north=90, live_mode="never")
    login(client, operator)

    response = client.get(f"/staff/incidents/{incident.pk}/live/")

    docked = [camera["name"] for camera in response.context["docked"]]
    assert docked == ["Camera at 10 m", "Camera at 50 m", "Alarm-only camera", "Camera at 120 m"]
    assert [camera["name"] for camera in response.context["more"]] == ["Camera at 200 m", "Camera at 300 m"]
    page = response.content.decode()
    assert "Owner allows live access during alarms within 100 m" in page
    # Each tile says when its access ends, before it plays: the alarm camera's 30 minutes.
    alarm_end = timezone.localtime(incident.window_start + timezone.timedelta(minutes=30)).strftime("%H:%M")
    assert f"Owner allows live access during alarms within 100 m (until {alarm_end})" in page
    assert [camera["name"] for camera in response.context["refused"]] == ["Never camera"]
    assert "The owner does not allow live viewing." in page
    assert page.count("data-live-tile ") + page.count("data-live-tile\n") == 6
    # The four docked tiles play at once; the rest wait for a tap (six connections per server).
    assert page.count('data-autostart="false"') == 2
    event = AuditEvent.objects.get(action="live.wall")
    assert event.actor == operator and event.incident_reference == incident.reference


def test_the_wall_never_shows_a_camera_address(client, login, operator, incident, signed_business):
    live_camera(signed_business, url="http://secret-user:secret-pass@cam.hidden.example:8554/video")
    login(client, operator)

    page = client.get(f"/staff/incidents/{incident.pk}/live/").content.decode()

    assert "cam.hidden.example" not in page and "secret-pass" not in page


def test_an_area_request_sent_from_the_wall_returns_to_the_wall(client, login, operator, incident, waivers):
    from cameras.tests.factories import CameraFactory
    from portal.tests.factories import OwnerFactory
    from requests_app.models import AreaRequest

    owner = OwnerFactory()
    sign_waiver(owner)
    CameraFactory(owner=owner, latitude=LAT, longitude=LNG)
    login(client, operator)
    form = client.get(f"/staff/incidents/{incident.pk}/live/").context["form"]
    end = timezone.localtime() - timezone.timedelta(minutes=10)

    response = client.post(f"/staff/incidents/{incident.pk}/requests/", {
        "return_to": "live", "latitude": form.initial["latitude"], "longitude": form.initial["longitude"],
        "radius_m": 150, "window_start": (end - timezone.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "window_end": end.strftime("%Y-%m-%dT%H:%M"), "case_number": "C-1"})

    assert response["Location"] == f"/staff/incidents/{incident.pk}/live/"
    assert AreaRequest.objects.get().footage_requests.get().owner == owner


def test_only_the_wall_is_a_place_to_return_to(client, login, operator, incident):
    login(client, operator)

    response = client.post(f"/staff/incidents/{incident.pk}/requests/", {"return_to": "https://evil.example/"})

    assert response["Location"] == f"/staff/incidents/{incident.pk}/"


def refused_reasons(response):
    return {camera["name"]: (camera["reason"], round(camera["distance_m"])) for camera in response.context["refused"]}


def test_the_wall_says_when_the_active_event_is_beyond_the_owners_radius(client, login, operator, incident,
                                                                         signed_business):
    named_camera(signed_business, "Bakery door", metres_north=239, live_mode="incident", incident_radius_m=200,
                 incident_minutes=60)
    login(client, operator)

    response = client.get(f"/staff/incidents/{incident.pk}/live/")

    reason = ("The owner allows live viewing during an alarm or 911 event within 200 m; the active event is 239 m "
              "away.")
    assert refused_reasons(response) == {"Bakery door": (reason, 239)}
    assert reason in response.content.decode()
    event = AuditEvent.objects.get(action="live.wall")
    assert event.details["refused"] == {str(response.context["refused"][0]["id"]): "incident_out_of_range"}


def test_the_wall_says_when_no_alarm_or_911_event_is_active(client, login, operator, signed_business):
    burglary = IncidentFactory(latitude=LAT, longitude=LNG)  # reported by staff: not an alarm or a 911 call
    named_camera(signed_business, "Bakery door", metres_north=150, live_mode="incident", incident_radius_m=200)
    login(client, operator)

    response = client.get(f"/staff/incidents/{burglary.pk}/live/")

    assert refused_reasons(response) == {"Bakery door": (
        "The owner allows live viewing during an alarm or 911 event within 200 m; none is active.", 150)}
