"""The RTCC page and its map data, and the officers' phone view."""

import pytest

from cameras.geo import approximate_location
from cameras.models import Camera
from cameras.tests.factories import CameraFactory
from incidents.models import Incident
from portal.models import AuditEvent
from portal.tests.factories import OwnerFactory, sign_waiver
from requests_app.models import FootageSubmission
from requests_app.tests.conftest import send_request_to_one_owner
from requests_app.tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db
ROLES = ["anonymous", "resident", "business", "officer", "operator", "supervisor", "oversight"]

#                                   anon  res  bus  off  opr  sup  ovs
TABLE = {
    "/staff/incidents/rtcc/":      [302, 403, 403, 403, 200, 200, 403],
    "/staff/incidents/rtcc/map/":  [302, 403, 403, 403, 200, 200, 403],
    "/staff/incidents/mine/":      [302, 403, 403, 200, 200, 200, 403],
    "/admin/cameras/livesession/": [302, 302, 302, 403, 403, 200, 200],
}


@pytest.mark.parametrize(("url", "role", "expected"),
                         [(url, role, codes[i]) for url, codes in TABLE.items() for i, role in enumerate(ROLES)])
def test_rtcc_and_officer_pages_permission_table(client, request, login, url, role, expected):
    if role != "anonymous":
        login(client, request.getfixturevalue(role))
    assert client.get(url).status_code == expected


def test_the_rtcc_lists_open_incidents_emergencies_first(client, operator, login):
    routine = IncidentFactory(priority=Incident.Priority.ROUTINE, address="1 Quiet Lane")
    emergency = IncidentFactory(priority=Incident.Priority.EMERGENCY, address="9 Loud Street")
    IncidentFactory(status=Incident.Status.CLOSED, address="3 Closed Court")
    login(client, operator)

    page = client.get("/staff/incidents/rtcc/").content.decode()

    assert page.index("9 Loud Street") < page.index("1 Quiet Lane")
    assert "3 Closed Court" not in page
    assert f'href="/staff/incidents/{emergency.pk}/live/"' in page
    assert f'href="/staff/incidents/{routine.pk}/live/"' in page


def test_the_rtcc_map_shows_cameras_blurred_where_owners_chose_and_is_audited(client, operator, login, waivers):
    owner = OwnerFactory()
    sign_waiver(owner)
    exact = CameraFactory(owner=owner, latitude=40.71, longitude=-74.0, access_level=Camera.AccessLevel.INTEGRATED)
    blurred = CameraFactory(owner=owner, latitude=40.7123456, longitude=-74.0123456,
                            rules={"location_precision": "approximate"})
    unverified = CameraFactory(owner=OwnerFactory(verified=False))
    incident = IncidentFactory(priority=Incident.Priority.EMERGENCY)
    login(client, operator)

    data = client.get("/staff/incidents/rtcc/map/").json()

    points = {point[0]: point[1:] for point in data["cameras"]}
    assert points[exact.pk] == [40.71, -74.0, 1]
    assert points[blurred.pk] == [*approximate_location(40.7123456, -74.0123456), 0]
    assert unverified.pk not in points
    assert [item["reference"] for item in data["incidents"]] == [incident.reference]
    assert data["incidents"][0]["emergency"] is True
    assert data["incidents"][0]["live_url"] == f"/staff/incidents/{incident.pk}/live/"
    event = AuditEvent.objects.get(action="camera.map")
    assert event.actor == operator and event.details["cameras"] == len(points)


def test_an_officer_sees_only_their_open_incidents_and_the_footage_shared_for_them(
        client, officer, operator, login, waivers):
    mine = IncidentFactory(address="12 Assigned Avenue")
    mine.assigned_officers.add(officer)
    closed = IncidentFactory(address="14 Finished Road", status=Incident.Status.CLOSED)
    closed.assigned_officers.add(officer)
    IncidentFactory(address="16 Someone Else Street")
    footage_request = send_request_to_one_owner(operator)
    footage_request.area_request.incident.assigned_officers.add(officer)
    for status, name in [(FootageSubmission.Status.ACCEPTED, "porch-accepted.mp4"),
                         (FootageSubmission.Status.PROCESSING, "porch-processing.mp4")]:
        FootageSubmission.objects.create(footage_request=footage_request, original_name=name, size=1000,
                                         status=status)
    login(client, officer)

    page = client.get("/staff/incidents/mine/").content.decode()

    assert "12 Assigned Avenue" in page
    assert f"/staff/incidents/{mine.pk}/live/?view=phone" in page
    assert "14 Finished Road" not in page
    assert "16 Someone Else Street" not in page
    assert "porch-accepted.mp4" in page
    assert "porch-processing.mp4" not in page


def test_the_officer_view_fits_a_phone_without_sideways_scrolling_markup(client, officer, login):
    login(client, officer)

    page = client.get("/staff/incidents/mine/").content.decode()

    assert 'name="viewport" content="width=device-width, initial-scale=1"' in page
    assert "No open incident is assigned to you" in page
