"""E-mailing the owners of an area request: workers claim disjoint batches, and each owner is
e-mailed once, through crashes, refusals, slow servers and a second worker."""

import re
import threading
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone
from django_q.models import Task

from cameras.tests.factories import CameraFactory
from portal.tests.factories import OwnerFactory, sign_waiver
from requests_app import services
from requests_app.models import FootageRequest
from requests_app.tasks import retry_failed_emails, send_area_request_emails
from requests_app.tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db
LAT, LNG = 40.7128, -74.0060
SENDING, SENT = FootageRequest.EmailState.SENDING, FootageRequest.EmailState.SENT


class WorkerKilled(BaseException):
    """Stands for a worker process killed mid-task: no `except Exception` handler sees it."""


def owners_in_the_circle(count):
    owners = []
    for number in range(count):
        owner = OwnerFactory()
        sign_waiver(owner)
        CameraFactory(owner=owner, latitude=LAT + (number % 300) / 111_195, longitude=LNG)
        owners.append(owner)
    return owners


def area_request_to_them(operator):
    """Sent within the limits. In a test transaction the fan-out's tasks are not queued (no commit)."""
    end = timezone.now() - timedelta(hours=1)
    return services.area_request_create(incident=IncidentFactory(latitude=LAT, longitude=LNG), sender=operator,
                                        latitude=LAT, longitude=LNG, radius_m=400,
                                        window_start=end - timedelta(hours=2), window_end=end)


def footage_requests_of(area_request):
    return list(FootageRequest.objects.filter(area_request=area_request).select_related("owner").order_by("pk"))


def emails_of(owners):
    return sorted(owner.email for owner in owners)


def link_in(message):
    text = next(part for part in message.walk() if part.get_content_type() == "text/plain")
    return re.search(r"(/r/[\w-]+/)", text.get_payload(decode=True).decode()).group(1)


def run_at_once(*functions):
    """Each function in a thread of its own, with its own database connection, as workers are; their results."""
    results, errors = [None] * len(functions), []

    def run(index, function):
        try:
            results[index] = function()
        except BaseException as error:  # noqa: BLE001  (handed to the test below)
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index, function)) for index, function in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads), "a worker did not finish"
    if errors:
        raise errors[0]
    return results


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(services, "EMAIL_BATCH_SIZE", 10)
    return 10


@pytest.fixture
def no_fan_out_tasks(monkeypatch):
    # In a transactional test the commit would run the fan-out's tasks at once (tests run tasks
    # synchronously); the workers below stand for the cluster's instead.
    monkeypatch.setattr(services, "_queue_emails", lambda area_request_id, *, owners: None)


@pytest.mark.parametrize(("owners", "tasks"), [(25, 3), (12, 2), (10, 1)])
def test_the_fan_out_queues_one_task_per_batch_of_owners(
        operator, waivers, settings, small_batches, django_capture_on_commit_callbacks, owners, tasks):
    owners_in_the_circle(owners)

    with django_capture_on_commit_callbacks(execute=True):
        area_request = area_request_to_them(operator)

    queued = Task.objects.filter(group=f"area-request-{area_request.pk}-emails").order_by("name")
    assert {task.name for task in queued} == {f"area-request-{area_request.pk}-emails-{n}" for n in range(1, tasks + 1)}
    # Tests run tasks one after another, so the first sends everything and the others find nothing due.
    assert sorted(task.result for task in queued) == [0] * (tasks - 1) + [owners]
    assert not FootageRequest.objects.exclude(email_state=SENT).exists()


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_claim_disjoint_batches_and_e_mail_each_owner_once(
        operator, waivers, smtp_server, small_batches, no_fan_out_tasks, monkeypatch):
    owners = owners_in_the_circle(60)
    area_request = area_request_to_them(operator)
    claims, both_hold_a_batch = {}, threading.Barrier(2, timeout=30)
    real_deliver = services._emails_deliver

    def deliver(claimed, **kwargs):
        batches = claims.setdefault(threading.get_ident(), [])
        batches.append([footage_request.pk for footage_request in claimed])
        if len(batches) == 1:
            both_hold_a_batch.wait()  # neither sends before both have claimed
        return real_deliver(claimed, **kwargs)

    monkeypatch.setattr(services, "_emails_deliver", deliver)
    sent = run_at_once(lambda: send_area_request_emails(area_request.pk),
                       lambda: send_area_request_emails(area_request.pk))

    claimed = [pk for batches in claims.values() for batch in batches for pk in batch]
    assert len(claims) == 2 and len(claimed) == len(set(claimed)) == 60
    assert all(sent) and sum(sent) == 60
    assert sorted(smtp_server.recipients()) == emails_of(owners)
    assert not FootageRequest.objects.exclude(email_state=SENT).exists()


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="row locks are PostgreSQL's; on SQLite claims take turns on the one write lock")
@pytest.mark.django_db(transaction=True)
def test_a_claim_passes_over_e_mails_another_worker_is_claiming_without_waiting(
        operator, waivers, smtp_server, no_fan_out_tasks):
    owners_in_the_circle(6)
    area_request = area_request_to_them(operator)
    requests = footage_requests_of(area_request)

    with transaction.atomic():  # another worker, in the middle of claiming the first three
        list(FootageRequest.objects.filter(pk__in=[request.pk for request in requests[:3]]).select_for_update())
        [sent] = run_at_once(lambda: send_area_request_emails(area_request.pk))

    assert sent == 3
    assert sorted(smtp_server.recipients()) == emails_of(request.owner for request in requests[3:])
    assert send_area_request_emails(area_request.pk) == 3  # the locks are gone: nobody had claimed them


def test_a_worker_killed_mid_batch_loses_no_e_mail_the_retry_job_sends_the_rest_after_the_lease(
        operator, waivers, smtp_server, small_batches, monkeypatch):
    owners = owners_in_the_circle(35)
    area_request = area_request_to_them(operator)
    real_email = services._footage_request_email
    built = []

    def email_then_die(footage_request, token, **kwargs):
        built.append(footage_request.pk)
        if len(built) == 14:
            raise WorkerKilled  # in the second batch, after its claim, before this e-mail's SMTP hand-off
        return real_email(footage_request, token, **kwargs)

    monkeypatch.setattr(services, "_footage_request_email", email_then_die)
    with pytest.raises(WorkerKilled):
        send_area_request_emails(area_request.pk)
    assert len(smtp_server.messages) == 13
    leased = FootageRequest.objects.filter(email_state=SENDING)
    assert leased.count() == 2 * small_batches - 13  # the rest of the killed worker's batch

    monkeypatch.setattr(services, "_footage_request_email", real_email)
    assert send_area_request_emails(area_request.pk) == 35 - 2 * small_batches  # at once: all but the leased
    assert retry_failed_emails() == 0  # the lease still runs
    leased.update(email_next_attempt_at=timezone.now() - timedelta(seconds=1))  # five minutes later
    assert retry_failed_emails() == 2 * small_batches - 13
    assert retry_failed_emails() == 0

    assert sorted(smtp_server.recipients()) == emails_of(owners)
    assert not FootageRequest.objects.exclude(email_state=SENT).exists()


def test_a_refused_recipient_fails_alone_and_the_next_e_mails_still_go_out(operator, waivers, smtp_server):
    owners_in_the_circle(3)
    area_request = area_request_to_them(operator)
    first, refused, last = footage_requests_of(area_request)
    smtp_server.refused.add(refused.owner.email)

    assert send_area_request_emails(area_request.pk) == 2

    assert smtp_server.recipients() == [first.owner.email, last.owner.email]
    refused.refresh_from_db()
    assert refused.email_state == FootageRequest.EmailState.FAILED and "550" in refused.email_last_error
    assert refused.email_next_attempt_at > timezone.now() and refused.token_hash is None


def test_an_e_mail_whose_sent_mark_was_lost_goes_out_once_more_after_the_lease_with_the_same_message_id(
        client, operator, waivers, smtp_server, monkeypatch):
    owners_in_the_circle(1)
    area_request = area_request_to_them(operator)
    real_claimed = services._claimed

    def killed_before_the_mark(footage_request):
        raise WorkerKilled  # after the SMTP server accepted the e-mail, before "sent" was committed

    monkeypatch.setattr(services, "_claimed", killed_before_the_mark)
    with pytest.raises(WorkerKilled):
        send_area_request_emails(area_request.pk)
    monkeypatch.setattr(services, "_claimed", real_claimed)
    FootageRequest.objects.update(email_next_attempt_at=timezone.now() - timedelta(seconds=1))

    assert retry_failed_emails() == 1

    (_to, first), (_to, repeat) = smtp_server.messages
    footage_request = FootageRequest.objects.get()
    assert first["Message-ID"] == repeat["Message-ID"] == footage_request.email_message_id
    assert footage_request.email_attempts == 2
    assert client.get(link_in(first)).status_code == 404  # its token was never stored
    assert client.get(link_in(repeat)).status_code == 302


def test_a_batch_slower_than_half_its_lease_leaves_the_rest_to_a_claim_after_the_lease(
        operator, waivers, smtp_server, monkeypatch):
    monkeypatch.setattr(services, "EMAIL_SENDING_LEASE", timedelta(seconds=2))
    smtp_server.delay_s = 1.1  # each e-mail takes more than half the lease
    owners = owners_in_the_circle(3)
    area_request = area_request_to_them(operator)

    assert send_area_request_emails(area_request.pk) == 1
    assert FootageRequest.objects.filter(email_state=SENDING).count() == 2

    smtp_server.delay_s = 0
    FootageRequest.objects.filter(email_state=SENDING).update(
        email_next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert retry_failed_emails() == 2
    assert sorted(smtp_server.recipients()) == emails_of(owners)


def test_an_e_mail_queued_without_a_message_id_gets_one_before_it_goes_out(operator, waivers, smtp_server):
    owners_in_the_circle(1)
    area_request = area_request_to_them(operator)
    FootageRequest.objects.update(email_message_id="")

    assert send_area_request_emails(area_request.pk) == 1

    stored = FootageRequest.objects.get().email_message_id
    assert stored and smtp_server.messages[0][1]["Message-ID"] == stored


def test_the_retry_job_leaves_new_e_mails_to_their_fan_out_task_and_sends_those_whose_task_never_ran(
        operator, waivers, smtp_server):
    owners = owners_in_the_circle(2)
    area_request_to_them(operator)

    assert retry_failed_emails() == 0
    FootageRequest.objects.update(created_at=timezone.now() - services.EMAIL_FAN_OUT_GRACE - timedelta(seconds=1))
    assert retry_failed_emails() == 2
    assert sorted(smtp_server.recipients()) == emails_of(owners)
