"""Fault: Redis, the task broker (TASKS_ON_REDIS=1), is away when an area request is sent or an upload
finishes, or loses its queue in a crash. Nothing is lost: the request or the upload is recorded, the
e-mails stay queued and the retry job sends each once; the file's check is queued again by the
stalled-submission job.

The broker is a real redis-server of the test's own; django-q2 reads its broker once at import, so the
test points its Conf at that server (as TASKS_ON_REDIS=1 with REDIS_URL would) instead of settings.
"""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.conf import Conf

from cameras.tests.factories import CameraFactory
from portal.tests.factories import OwnerFactory, sign_waiver
from portal.tests.faults import redis_server_fixture  # noqa: F401  (fixture)
from requests_app import services
from requests_app.models import FootageRequest, FootageSubmission
from requests_app.submissions import STALLED_AFTER
from requests_app.tasks import requeue_stalled_submissions, retry_failed_emails
from requests_app.tests.factories import IncidentFactory
from requests_app.tests.test_footage_uploads import TUS, create, link_session
from requests_app.tests.videos import make_mp4

pytestmark = pytest.mark.django_db(transaction=True)  # the fan-out queues its tasks on commit
LAT, LNG = 40.7128, -74.0060
OWNERS = 12


@pytest.fixture
def redis_broker(redis_server, monkeypatch):
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", redis_server.url)
    monkeypatch.setattr(Conf, "SYNC", False)
    return redis_server


def owners_with_cameras():
    owners = []
    for number in range(OWNERS):
        owner = OwnerFactory()
        sign_waiver(owner)
        CameraFactory(owner=owner, latitude=LAT + number / 111_195, longitude=LNG)
        owners.append(owner)
    return owners


def send_area_request(operator):
    end = timezone.now() - timedelta(hours=1)
    return services.area_request_create(incident=IncidentFactory(latitude=LAT, longitude=LNG), sender=operator,
                                        latitude=LAT, longitude=LNG, radius_m=400,
                                        window_start=end - timedelta(hours=2), window_end=end)


def ten_minutes_later():
    """The fan-out's grace has passed: the retry job now treats e-mails still queued as having no task."""
    FootageRequest.objects.update(created_at=timezone.now() - services.EMAIL_FAN_OUT_GRACE - timedelta(seconds=1))


def assert_each_owner_has_one_working_link(smtp_server, owners):
    assert sorted(smtp_server.recipients()) == sorted(owner.email for owner in owners)
    for _to, message in smtp_server.messages:
        text = next(part for part in message.walk() if part.get_content_type() == "text/plain")
        link = re.search(r"(/r/[\w-]+/)", text.get_payload(decode=True).decode()).group(1)
        assert Client().get(link).status_code == 302  # the link opens the owner's request
    assert not FootageRequest.objects.exclude(email_state=FootageRequest.EmailState.SENT).exists()


def test_an_area_request_sent_while_the_broker_is_down_is_recorded_and_its_e_mails_go_out_once_later(
        redis_broker, operator, waivers, smtp_server):
    owners = owners_with_cameras()
    redis_broker.stop()

    area_request = send_area_request(operator)  # queuing its tasks fails after the commit; the request stands

    assert area_request.status == "sent"
    assert FootageRequest.objects.filter(email_state=FootageRequest.EmailState.QUEUED).count() == OWNERS
    assert smtp_server.messages == []

    redis_broker.start()
    assert get_broker().queue_size() == 0  # no task ever reached the broker
    assert retry_failed_emails() == 0  # within the grace a fan-out task may still come
    ten_minutes_later()
    assert retry_failed_emails() == OWNERS
    assert retry_failed_emails() == 0

    assert_each_owner_has_one_working_link(smtp_server, owners)


def test_e_mail_tasks_lost_with_the_broker_in_a_crash_are_sent_once_by_the_retry_job(
        redis_broker, operator, waivers, smtp_server):
    owners = owners_with_cameras()

    send_area_request(operator)
    assert get_broker().queue_size() == 1  # one task per 100 owners, in Redis
    redis_broker.stop()  # SIGKILL, no persistence: the queued task is gone
    redis_broker.start()

    assert get_broker().queue_size() == 0
    ten_minutes_later()
    assert retry_failed_emails() == OWNERS

    assert_each_owner_has_one_working_link(smtp_server, owners)


def test_an_upload_finished_while_the_broker_is_down_is_kept_and_checked_once_it_is_back(
        redis_broker, client, approved_request, tmp_path, monkeypatch):
    video = tmp_path / "yard.mp4"
    make_mp4(video, seconds=2)
    link_session(client, approved_request)
    created = create(client, approved_request, length=video.stat().st_size, name="yard.mp4")
    redis_broker.stop()

    finished = client.patch(created["Location"], data=video.read_bytes(),
                            content_type="application/offset+octet-stream", headers={**TUS, "Upload-Offset": "0"})

    assert finished.status_code == 204  # the file is complete and kept; only its check could not be queued
    submission = FootageSubmission.objects.get()
    assert submission.status == FootageSubmission.Status.PROCESSING

    redis_broker.start()
    assert get_broker().queue_size() == 0
    assert requeue_stalled_submissions() == 0  # a check may still be on its way
    FootageSubmission.objects.update(created_at=timezone.now() - STALLED_AFTER - timedelta(seconds=1))
    monkeypatch.setattr(Conf, "SYNC", True)  # the re-queued check runs here, as a worker would run it
    assert requeue_stalled_submissions() == 1

    submission.refresh_from_db()
    assert submission.status == FootageSubmission.Status.ACCEPTED
    assert requeue_stalled_submissions() == 0
