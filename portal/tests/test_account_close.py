"""Leaving the program keeps each promise of the close page: cameras leave every search at once, footage
already given stays under the retention rules, and the owner is told what is kept and until when."""

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from django.utils.formats import date_format

from incidents.models import Incident
from requests_app import services
from requests_app.models import FootageRequest, FootageSubmission
from requests_app.retention import State, retention_state
from requests_app.submissions import evidence_name
from requests_app.tests.conftest import approved_request  # noqa: F401  (fixture)
from requests_app.tests.factories import finished_upload, submit
from requests_app.tests.footage import is_stored
from requests_app.tests.videos import make_mp4

pytestmark = pytest.mark.django_db


@pytest.fixture
def given(disk_footage, request, django_capture_on_commit_callbacks):
    """The owner of an approved request, with one accepted file for its (open) case."""
    approved_request = request.getfixturevalue("approved_request")  # noqa: F811  (the fixture imported above)
    open_case = submit(approved_request, finished_upload(approved_request, lambda path: make_mp4(path),
                                                         name="open-case.mp4"), django_capture_on_commit_callbacks)
    owner = approved_request.owner
    return {"owner": owner, "open_case": open_case, "camera": owner.cameras.get(),
            "incident": approved_request.area_request.incident}


def search(client, camera):
    response = client.get("/api/v1/cameras/", {"lat": camera.latitude, "lng": camera.longitude, "radius_m": 200})
    assert response.status_code == 200
    return [result["id"] for result in response.json()]


def close(client, owner, capture):
    client.force_login(owner)
    with capture(execute=True):
        return client.post("/account/close/", {"confirm": "close"})


def closed_email(owner):
    return next(message for message in mail.outbox if message.to == [owner.email]
                and message.subject == "Your account is closed: what police keep")


def test_the_cameras_leave_police_searches_at_once(client, given, operator, login,
                                                   django_capture_on_commit_callbacks):
    staff = login(Client(), operator)
    assert given["camera"].pk in search(staff, given["camera"])

    response = close(client, given["owner"], django_capture_on_commit_callbacks)

    assert response.status_code == 302
    assert search(staff, given["camera"]) == []
    given["owner"].refresh_from_db()
    assert not given["owner"].is_active


def test_footage_already_given_stays_with_its_retention_dates(client, given, settings,
                                                              django_capture_on_commit_callbacks):
    Incident.objects.filter(pk=given["incident"].pk).update(status=Incident.Status.CLOSED,
                                                            closed_at=timezone.now() - timedelta(days=10))

    close(client, given["owner"], django_capture_on_commit_callbacks)

    submission = FootageSubmission.objects.get(pk=given["open_case"].pk)
    assert submission.status == FootageSubmission.Status.ACCEPTED
    assert is_stored(evidence_name(submission))
    state = retention_state(submission, timezone.now())
    assert state.code == State.SCHEDULED
    assert state.deletion_date == Incident.objects.get().closed_at + timedelta(days=settings.EVIDENCE_RETENTION_DAYS)


def test_the_page_and_the_email_say_what_is_kept_and_until_when(client, given, settings,
                                                                django_capture_on_commit_callbacks):
    closed_at = timezone.now() - timedelta(days=10)
    Incident.objects.filter(pk=given["incident"].pk).update(status=Incident.Status.CLOSED, closed_at=closed_at)
    until = date_format(timezone.localtime(closed_at + timedelta(days=settings.EVIDENCE_RETENTION_DAYS)),
                        "DATE_FORMAT")
    client.force_login(given["owner"])

    page = client.get("/account/close/").content.decode()
    assert "open-case.mp4" in page and f"Kept until {until}, then deleted" in page
    assert "We send you an e-mail confirming" in page

    close(client, given["owner"], django_capture_on_commit_callbacks)

    body = closed_email(given["owner"]).body
    assert "Your cameras were removed from every police search" in body
    assert f"open-case.mp4 ({given['open_case'].size} bytes, SHA-256 {given['open_case'].sha256})" in body
    assert f"kept until {until}, then deleted" in body
    assert "you get a receipt at this address" in body


def test_footage_of_an_open_case_is_told_as_kept_while_the_case_is_open(client, given,
                                                                        django_capture_on_commit_callbacks):
    client.force_login(given["owner"])
    assert "Kept while its case is open" in client.get("/account/close/").content.decode()

    close(client, given["owner"], django_capture_on_commit_callbacks)

    assert "open-case.mp4" in closed_email(given["owner"]).body
    assert "kept while its case is open" in closed_email(given["owner"]).body


def test_an_owner_who_gave_nothing_is_told_so(client, resident, django_capture_on_commit_callbacks):
    close(client, resident, django_capture_on_commit_callbacks)

    assert "Police keep no footage from you." in closed_email(resident).body


def test_requests_still_open_are_withdrawn_and_their_links_stop_working(client, given, operator,
                                                                        django_capture_on_commit_callbacks):
    footage_request = FootageRequest.objects.get(owner=given["owner"])
    assert footage_request.status == FootageRequest.Status.APPROVED

    close(client, given["owner"], django_capture_on_commit_callbacks)

    footage_request.refresh_from_db()
    assert footage_request.token_hash is None
    # It was answered and footage given: the answer stays in the chain of custody.
    assert footage_request.status == FootageRequest.Status.APPROVED


def test_requests_not_answered_yet_are_withdrawn(client, given, operator, django_capture_on_commit_callbacks):
    from requests_app import services

    incident = given["incident"]
    end = timezone.now() - timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        area_request = services.area_request_create(
            incident=incident, sender=operator, latitude=incident.latitude, longitude=incident.longitude,
            radius_m=100, window_start=end - timedelta(hours=1), window_end=end, case_number="CASE-2")
    unanswered = FootageRequest.objects.get(owner=given["owner"], area_request=area_request)
    services.area_request_emails_send(area_request_id=area_request.pk)
    unanswered.refresh_from_db()
    assert unanswered.status == FootageRequest.Status.PENDING and unanswered.token_hash

    close(client, given["owner"], django_capture_on_commit_callbacks)

    unanswered.refresh_from_db()
    assert unanswered.status == FootageRequest.Status.EXPIRED and unanswered.token_hash is None


def test_later_deletion_receipts_still_reach_the_closed_accounts_address(client, given, settings,
                                                                         django_capture_on_commit_callbacks):
    close(client, given["owner"], django_capture_on_commit_callbacks)
    Incident.objects.filter(pk=given["incident"].pk).update(
        status=Incident.Status.CLOSED, closed_at=timezone.now() - timedelta(days=settings.EVIDENCE_RETENTION_DAYS + 1))

    with django_capture_on_commit_callbacks(execute=True):
        assert services.retention_purge()["evidence_purged"] == 1

    receipt = mail.outbox[-1]
    assert receipt.subject == "Deleted: your video “open-case.mp4”"
    assert receipt.to == [given["owner"].email]


def test_nothing_changes_without_the_confirmation(client, given, django_capture_on_commit_callbacks):
    client.force_login(given["owner"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/account/close/", {})

    assert response.status_code == 302
    given["owner"].refresh_from_db()
    assert given["owner"].is_active and given["owner"].cameras.count() == 1
    assert not [message for message in mail.outbox if "account is closed" in message.subject]
