import hashlib
import re

import pytest

from cameras.models import Camera
from cameras.services import camera_delete
from cameras.tests.factories import CameraFactory
from portal.audit import audit_verify
from portal.models import AuditEvent
from requests_app.models import FootageSubmission
from requests_app.tests.factories import finished_upload, submit
from requests_app.tests.videos import make_mp4

pytestmark = pytest.mark.django_db


@pytest.fixture
def evidence(approved_request, django_capture_on_commit_callbacks):
    upload = finished_upload(approved_request, lambda path: make_mp4(path, seconds=2))
    return submit(approved_request, upload, django_capture_on_commit_callbacks)


def body(response):
    return b"".join(response.streaming_content)


@pytest.mark.parametrize(("role", "status"), [("operator", 200), ("supervisor", 200), ("officer", 404),
                                              ("oversight", 403), ("resident", 403)])
def test_only_staff_who_review_footage_get_the_file(client, evidence, request, login, role, status):
    login(client, request.getfixturevalue(role))

    assert client.get(f"/staff/evidence/{evidence.pk}/file/").status_code == status


def test_an_assigned_officer_gets_the_footage_of_their_incident(client, evidence, officer, login):
    evidence.footage_request.area_request.incident.assigned_officers.add(officer)
    login(client, officer)

    assert client.get(f"/staff/evidence/{evidence.pk}/file/").status_code == 200


def test_the_download_is_byte_identical_and_audited_for_the_owner_to_see(client, evidence, operator, login):
    login(client, operator)

    response = client.get(f"/staff/evidence/{evidence.pk}/file/", {"download": "1"})

    assert hashlib.sha256(body(response)).hexdigest() == evidence.sha256
    assert "attachment" in response["Content-Disposition"]
    event = AuditEvent.objects.get(action="footage.downloaded")
    assert (event.actor, event.camera_owner) == (operator, evidence.footage_request.owner)
    client.logout()
    login(client, evidence.footage_request.owner)
    assert "Footage downloaded" in client.get("/access-log/").content.decode()


def test_range_requests_let_the_player_seek(client, evidence, operator, login):
    login(client, operator)
    size = evidence.size

    response = client.get(f"/staff/evidence/{evidence.pk}/file/", HTTP_RANGE="bytes=100-199")

    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 100-199/{size}"
    assert len(body(response)) == 100
    assert client.get(f"/staff/evidence/{evidence.pk}/file/", HTTP_RANGE=f"bytes={size}-").status_code == 416
    assert AuditEvent.objects.filter(action="footage.viewed").count() == 0  # seeking is not a new view


def test_rejected_files_are_not_served(client, evidence, operator, login):
    FootageSubmission.objects.filter(pk=evidence.pk).update(status=FootageSubmission.Status.REJECTED)
    login(client, operator)

    assert client.get(f"/staff/evidence/{evidence.pk}/file/").status_code == 404


def test_the_custody_report_lists_every_step_with_hashes(client, evidence, operator, login):
    login(client, operator)
    client.get(f"/staff/evidence/{evidence.pk}/file/", {"download": "1"})

    page = client.get(f"/staff/evidence/{evidence.pk}/custody/").content.decode()

    for action in ("area_request.created", "request.approved", "footage.uploaded", "footage.accepted",
                   "footage.downloaded"):
        assert action in page
    assert evidence.sha256 in page


def test_the_incident_page_shows_the_footage_with_its_hash(client, evidence, operator, login):
    login(client, operator)

    page = client.get(f"/staff/incidents/{evidence.footage_request.area_request.incident.pk}/").content.decode()

    assert evidence.sha256 in page and f"/staff/evidence/{evidence.pk}/file/" in page


def test_officers_see_in_the_admin_only_the_footage_of_their_incidents(client, evidence, officer, login):
    login(client, officer)
    assert evidence.sha256 not in client.get("/admin/requests_app/footagesubmission/").content.decode()

    evidence.footage_request.area_request.incident.assigned_officers.add(officer)

    assert evidence.sha256 in client.get("/admin/requests_app/footagesubmission/").content.decode()


def access_log_rows(client):
    """The owner's access log as (what, camera) pairs, newest first."""
    page = client.get("/access-log/").content.decode()
    rows = re.findall(r"<tr>(.*?)</tr>", page.split("<tbody>", 1)[-1], re.S)

    def cell(row, label):
        return re.sub(r"<[^>]+>", "", re.search(rf'data-label="{label}">(.*?)</td>', row, re.S).group(1)).strip()

    return [(cell(row, "What"), cell(row, "Camera")) for row in rows]


def look_at_the_evidence(client, evidence, staff, login):
    login(client, staff)
    client.get(f"/staff/evidence/{evidence.pk}/file/")
    client.get(f"/staff/evidence/{evidence.pk}/file/", {"download": "1"})
    client.get(f"/staff/evidence/{evidence.pk}/custody/")
    client.logout()


FOOTAGE_ACTIONS = ["Chain-of-custody report opened", "Footage downloaded", "Footage viewed"]


def test_the_owners_access_log_names_the_camera_the_footage_came_from(client, evidence, operator, login):
    owner = evidence.footage_request.owner
    camera = evidence.footage_request.cameras.get()
    Camera.objects.filter(pk=camera.pk).update(name="Porch camera")
    look_at_the_evidence(client, evidence, operator, login)
    login(client, owner)

    rows = access_log_rows(client)

    assert rows[:3] == [(action, "Porch camera") for action in FOOTAGE_ACTIONS]
    footage_events = AuditEvent.objects.filter(action__startswith="footage.")
    assert {event.action for event in footage_events} == {
        "footage.uploaded", "footage.accepted", "footage.viewed", "footage.downloaded", "footage.custody_report"}
    assert {(event.camera_id, event.camera_owner_id) for event in footage_events} == {(camera.pk, owner.pk)}
    camera_delete(camera=camera, actor=owner)
    assert access_log_rows(client)[:3] == [(action, "a removed camera") for action in FOOTAGE_ACTIONS]
    assert audit_verify().ok


def test_footage_of_a_request_for_several_cameras_names_each_of_them(client, evidence, operator, login):
    footage_request = evidence.footage_request
    owner = footage_request.owner
    first = footage_request.cameras.get()
    Camera.objects.filter(pk=first.pk).update(name="Porch camera")
    second = CameraFactory(owner=owner, name="Driveway camera")
    footage_request.cameras.add(second)
    look_at_the_evidence(client, evidence, operator, login)
    login(client, owner)

    assert access_log_rows(client)[:3] == [(action, "Driveway camera, Porch camera") for action in FOOTAGE_ACTIONS]
    event = AuditEvent.objects.get(action="footage.downloaded")
    assert (event.camera_id, event.camera_owner, event.details["camera_ids"]) == (
        None, owner, sorted([first.pk, second.pk]))
    camera_delete(camera=second, actor=owner)
    assert access_log_rows(client)[:3] == [(action, "Porch camera, a removed camera") for action in FOOTAGE_ACTIONS]
    assert audit_verify().ok
