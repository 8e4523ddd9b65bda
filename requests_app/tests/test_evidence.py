import hashlib

import pytest

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
