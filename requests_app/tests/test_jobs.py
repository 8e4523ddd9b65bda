"""Scheduled jobs: reminders, expiry, retention; and that they are scheduled at all."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from django_q.models import Schedule

from incidents.models import Incident
from requests_app import services
from requests_app.models import FootageRequest, FootageSubmission
from requests_app.submissions import evidence_name
from requests_app.tests.conftest import send_request_to_one_owner
from requests_app.tests.factories import finished_upload, submit
from requests_app.tests.footage import is_stored
from requests_app.tests.videos import make_mp4

pytestmark = pytest.mark.django_db


def test_the_jobs_are_scheduled_by_the_migrations():
    assert set(Schedule.objects.values_list("func", flat=True)) >= {
        "requests_app.tasks.retry_failed_emails", "requests_app.tasks.expire_footage_requests",
        "requests_app.tasks.send_reminders", "requests_app.tasks.delete_expired_uploads",
        "requests_app.tasks.purge_by_retention_rules"}


@pytest.fixture
def sent_request(operator, waivers, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        footage_request = send_request_to_one_owner(operator)
    footage_request.refresh_from_db()
    return footage_request


def test_an_unanswered_request_gets_one_reminder_with_a_fresh_link(client, sent_request, settings):
    first_link = re.search(r"(/r/[\w-]+/)", mail.outbox[-1].body).group(1)
    FootageRequest.objects.filter(pk=sent_request.pk).update(
        email_sent_at=timezone.now() - timedelta(hours=settings.FOOTAGE_REQUEST_REMINDER_HOURS + 1))

    assert services.footage_requests_remind() == 1
    assert services.footage_requests_remind() == 0

    reminder = mail.outbox[-1]
    assert reminder.subject.startswith("Reminder:")
    new_link = re.search(r"(/r/[\w-]+/)", reminder.body).group(1)
    assert client.get(new_link).status_code == 302
    assert client.get(first_link).status_code == 404


def test_answered_requests_get_no_reminder(sent_request, settings):
    services.footage_request_decline(footage_request=sent_request, no_footage=True)
    FootageRequest.objects.update(email_sent_at=timezone.now() - timedelta(days=5))

    assert services.footage_requests_remind() == 0


def test_declined_requests_are_purged_after_the_retention_delay(sent_request, settings):
    services.footage_request_decline(footage_request=sent_request, no_footage=True)

    assert services.retention_purge()["requests"] == 0
    days = settings.RETENTION_CLOSED_REQUEST_DAYS + 1
    FootageRequest.objects.update(expires_at=timezone.now() - timedelta(days=days))
    assert services.retention_purge()["requests"] == 1
    assert not FootageRequest.objects.exists()


def test_evidence_is_kept_until_the_incident_is_closed_plus_the_retention_period(
        approved_request, settings, django_capture_on_commit_callbacks):
    submission = submit(approved_request, finished_upload(approved_request, lambda path: make_mp4(path)),
                        django_capture_on_commit_callbacks)
    incident = approved_request.area_request.incident

    assert services.retention_purge()["evidence_purged"] == 0
    Incident.objects.filter(pk=incident.pk).update(
        status=Incident.Status.CLOSED, closed_at=timezone.now() - timedelta(days=settings.EVIDENCE_RETENTION_DAYS - 1))
    assert services.retention_purge()["evidence_purged"] == 0
    Incident.objects.filter(pk=incident.pk).update(
        closed_at=timezone.now() - timedelta(days=settings.EVIDENCE_RETENTION_DAYS + 1))

    assert services.retention_purge()["evidence_purged"] == 1
    submission.refresh_from_db()
    assert submission.status == FootageSubmission.Status.PURGED
    assert not is_stored(evidence_name(submission))
    assert services.retention_purge()["evidence_purged"] == 0
