from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from cameras.tests.factories import CameraFactory
from incidents.models import Incident
from portal.models import AuditEvent
from portal.tests.factories import OwnerFactory, sign_waiver
from requests_app.models import AreaRequest, FootageRequest
from requests_app.tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db
ROLES = ["anonymous", "resident", "business", "officer", "operator", "supervisor", "oversight"]


@pytest.fixture
def incident(db):
    return IncidentFactory()


def statuses(client, request, login, role, urls):
    if role != "anonymous":
        login(client, request.getfixturevalue(role))
    return [client.get(url).status_code for url in urls]


#                                    anon  res  bus  off  opr  sup  ovs
TABLE = {
    "/staff/incidents/":            [302, 403, 403, 200, 200, 200, 403],
    "/staff/incidents/new/":        [302, 403, 403, 403, 200, 200, 403],
    "/staff/incidents/{pk}/":       [302, 403, 403, 404, 200, 200, 403],
    "/staff/incidents/{pk}/preview/?lat=40.7&lng=-74&radius_m=300": [302, 403, 403, 404, 200, 200, 403],
    "/staff/incidents/approvals/":  [302, 403, 403, 403, 403, 200, 403],
    "/staff/incidents/feed/":       [302, 403, 403, 403, 200, 200, 403],
    "/staff/incidents/{pk}/requests/": [302, 403, 403, 405, 405, 405, 405],
    "/admin/incidents/incident/":   [302, 302, 302, 200, 200, 200, 403],
}


@pytest.mark.parametrize(("url", "role", "expected"),
                         [(url, role, codes[i]) for url, codes in TABLE.items() for i, role in enumerate(ROLES)])
def test_staff_incident_pages_permission_table(client, request, login, incident, url, role, expected):
    assert statuses(client, request, login, role, [url.format(pk=incident.pk)]) == [expected]


def test_an_assigned_officer_sees_their_incident(client, officer, incident, login):
    incident.assigned_officers.add(officer)
    login(client, officer)

    assert client.get(f"/staff/incidents/{incident.pk}/").status_code == 200
    assert incident.reference in client.get("/staff/incidents/").content.decode()


def test_an_operator_opens_an_incident_with_a_reference(client, operator, officer, login):
    login(client, operator)
    now = timezone.localtime()

    response = client.post("/staff/incidents/new/", {
        "incident_type": "robbery", "priority": "1", "case_number": "R-77", "address": "5 Main St",
        "latitude": "40.7128", "longitude": "-74.006",
        "window_start": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "window_end": now.strftime("%Y-%m-%dT%H:%M"), "assigned_officers": [officer.pk]})

    incident = Incident.objects.get()
    assert response["Location"] == f"/staff/incidents/{incident.pk}/"
    assert incident.reference == f"{now.year}-{incident.pk:06d}"
    assert list(incident.assigned_officers.all()) == [officer]
    assert AuditEvent.objects.filter(action="incident.created", incident_reference=incident.reference).exists()


def test_a_reversed_incident_window_is_refused(client, operator, login):
    login(client, operator)
    now = timezone.localtime()

    response = client.post("/staff/incidents/new/", {
        "incident_type": "robbery", "priority": "2", "latitude": "40.7", "longitude": "-74",
        "window_start": now.strftime("%Y-%m-%dT%H:%M"),
        "window_end": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")})

    assert "window_end" in response.context["form"].errors
    assert not Incident.objects.exists()


def test_the_preview_lists_cameras_and_limits_and_is_audited(client, operator, incident, waivers, login):
    owner = OwnerFactory()
    sign_waiver(owner)
    CameraFactory(owner=owner, latitude=incident.latitude, longitude=incident.longitude, name="Porch")
    login(client, operator)

    data = client.get(f"/staff/incidents/{incident.pk}/preview/",
                      {"lat": incident.latitude, "lng": incident.longitude, "radius_m": 1000}).json()

    assert data["counts"]["owners_asked"] == 1 and data["cameras"][0]["name"] == "Porch"
    assert "larger than the city's limit of 805 m" in data["over_limits"][0]
    assert AuditEvent.objects.filter(action="camera.search", incident_reference=incident.reference).exists()


def test_bad_preview_parameters_get_a_400(client, operator, incident, login):
    login(client, operator)

    assert client.get(f"/staff/incidents/{incident.pk}/preview/", {"lat": "x"}).status_code == 400
    assert client.get(f"/staff/incidents/{incident.pk}/preview/",
                      {"lat": 0, "lng": 0, "radius_m": 99_999}).status_code == 400


def send_form(incident, **overrides):
    end = timezone.localtime() - timedelta(hours=1)
    data = {"latitude": incident.latitude, "longitude": incident.longitude, "radius_m": 300,
            "window_start": (end - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
            "window_end": end.strftime("%Y-%m-%dT%H:%M"), "case_number": "C-1", "message": "Grey van"}
    data.update(overrides)
    return data


def test_an_operator_sends_from_the_incident_page(client, operator, incident, waivers, login,
                                                  django_capture_on_commit_callbacks):
    owner = OwnerFactory()
    sign_waiver(owner)
    CameraFactory(owner=owner, latitude=incident.latitude, longitude=incident.longitude)
    login(client, operator)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/staff/incidents/{incident.pk}/requests/", send_form(incident), follow=True)

    assert "Sent to 1 owner." in response.content.decode()
    assert FootageRequest.objects.get().owner == owner and len(mail.outbox) == 1
    assert owner.display_name in response.content.decode()


def test_beyond_the_limits_the_request_waits_in_the_supervisors_queue(client, operator, supervisor, incident,
                                                                      waivers, login):
    login(client, operator)
    client.post(f"/staff/incidents/{incident.pk}/requests/", send_form(incident, radius_m=1500))
    area_request = AreaRequest.objects.get()
    assert area_request.status == AreaRequest.Status.AWAITING_APPROVAL

    client.logout()
    login(client, supervisor)
    assert incident.reference in client.get("/staff/incidents/approvals/").content.decode()
    client.post(f"/staff/incidents/approvals/{area_request.pk}/", {"decision": "approve"})
    area_request.refresh_from_db()
    assert (area_request.status, area_request.decided_by) == (AreaRequest.Status.SENT, supervisor)


@pytest.mark.parametrize("role", ["officer", "oversight", "resident"])
def test_roles_without_the_send_permission_cannot_send(client, request, login, incident, role):
    login(client, request.getfixturevalue(role))

    response = client.post(f"/staff/incidents/{incident.pk}/requests/", send_form(incident))

    assert response.status_code in (403, 404)
    assert not AreaRequest.objects.exists()


def test_an_operator_cannot_decide_approvals(client, operator, incident, login):
    login(client, operator)
    client.post(f"/staff/incidents/{incident.pk}/requests/", send_form(incident, radius_m=1500))

    response = client.post(f"/staff/incidents/approvals/{AreaRequest.objects.get().pk}/", {"decision": "approve"})

    assert response.status_code == 403
    assert AreaRequest.objects.get().status == AreaRequest.Status.AWAITING_APPROVAL


def test_a_missing_case_number_is_refused_with_the_reason(client, operator, login, waivers):
    incident = IncidentFactory(case_number="")
    login(client, operator)

    response = client.post(f"/staff/incidents/{incident.pk}/requests/", send_form(incident, case_number=""),
                           follow=True)

    assert "A case number is required" in response.content.decode()
    assert not AreaRequest.objects.exists()


def test_the_feed_lists_what_happened_across_incidents(client, operator, incident, waivers, login):
    from incidents.services import incident_create

    created = incident_create(created_by=operator, incident_type="robbery", latitude=40.7, longitude=-74.0,
                              window_start=timezone.now() - timedelta(hours=2), window_end=timezone.now())
    login(client, operator)

    page = client.get("/staff/incidents/feed/").content.decode()

    assert created.reference in page and "incident.created" in page
