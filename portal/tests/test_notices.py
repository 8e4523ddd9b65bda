"""Live-view notices: each view, a daily digest exactly once per owner and day, or none; chosen on the
account page and through PATCH /api/v1/me/."""

import re
import threading
from datetime import datetime, time, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.utils import timezone
from django.utils.formats import date_format
from django_q.models import Schedule

from cameras.live import live_session_start
from cameras.models import Camera, LiveSession, StreamSource
from cameras.services import stream_source_set
from cameras.tests.factories import CameraFactory
from portal.env import env_int
from portal.models import AuditEvent, NoticeDigest, OutboxEmail, User
from portal.notices import DIGEST_LEASE, day_bounds, digest_day_due, notice_digest_claim, notice_digests_send
from portal.tasks import send_notice_digests
from portal.tests.factories import OwnerFactory, sign_waiver
from requests_app.tests.smtp import smtp_server_fixture  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db
LAT, LNG = 40.7128, -74.0060


def local(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=timezone.get_default_timezone())


TODAY = timezone.localdate(timezone.now(), timezone.get_default_timezone())
YESTERDAY = TODAY - timedelta(days=1)


def live_camera(owner, name, *, notify=True):
    camera = CameraFactory(owner=owner, name=name, access_level=Camera.AccessLevel.INTEGRATED, latitude=LAT,
                           longitude=LNG, rules={"live_mode": "always", "notify_on_live_view": notify})
    stream_source_set(camera=camera, actor=owner, kind=StreamSource.Kind.MJPEG, url="http://cam.example.net/v")
    return camera


def watch(camera, viewer, at, capture):
    """A live view of `camera` started at `at`, its on-commit work (the per-view e-mail) run."""
    facts = Camera.objects.with_policy_facts().select_related("stream").get(pk=camera.pk)
    with capture(execute=True):
        return live_session_start(camera=facts, viewer=viewer, at=at).session


def set_notice(user, notice):
    User.objects.filter(pk=user.pk).update(live_view_notice=notice)
    user.refresh_from_db()


@pytest.fixture
def shop(business, waivers):
    sign_waiver(business)
    return business


@pytest.fixture
def door(shop):
    return live_camera(shop, "Shop door")


# --- Per view, or not ----------------------------------------------------------------------------

def test_each_is_the_default_and_every_view_is_emailed(door, shop, operator, django_capture_on_commit_callbacks):
    assert shop.live_view_notice == "each"

    watch(door, operator, timezone.now(), django_capture_on_commit_callbacks)

    assert [message.to for message in mail.outbox] == [[shop.email]]


def test_with_digest_nothing_is_sent_per_view(door, shop, operator, django_capture_on_commit_callbacks):
    set_notice(shop, "digest")

    session = watch(door, operator, timezone.now(), django_capture_on_commit_callbacks)

    assert mail.outbox == []
    assert LiveSession.objects.get(pk=session.pk).owner_notified_at is None


def test_with_none_no_email_is_ever_sent(door, shop, operator, django_capture_on_commit_callbacks):
    set_notice(shop, "none")

    watch(door, operator, local(YESTERDAY, 10), django_capture_on_commit_callbacks)
    sent = notice_digests_send(now=local(TODAY, 9))

    assert sent == 0 and mail.outbox == []
    assert AuditEvent.objects.filter(action="live.started").count() == 1  # still in the access log


def test_a_queued_view_email_is_not_sent_once_the_owner_chose_digest(door, shop, operator,
                                                                    django_capture_on_commit_callbacks):
    facts = Camera.objects.with_policy_facts().select_related("stream").get(pk=door.pk)
    with django_capture_on_commit_callbacks() as callbacks:  # the view committed, its e-mail task not run yet
        live_session_start(camera=facts, viewer=operator, at=local(YESTERDAY, 10))
    set_notice(shop, "digest")

    for callback in callbacks:
        callback()

    assert mail.outbox == []
    assert notice_digests_send(now=local(TODAY, 8)) == 1  # the view is in the next digest instead
    assert "Shop door" in mail.outbox[0].body


# --- The digest -----------------------------------------------------------------------------------

def test_the_digest_lists_the_previous_days_views_of_notifying_cameras_once(door, shop, operator,
                                                                           django_capture_on_commit_callbacks):
    quiet = live_camera(shop, "Back office", notify=False)
    set_notice(shop, "digest")
    for at, camera in [(local(YESTERDAY, 9, 15), door), (local(YESTERDAY, 22, 40), door),
                       (local(YESTERDAY, 11), quiet), (local(TODAY, 1), door), (local(YESTERDAY, 0) - timedelta(
                           minutes=1), door)]:
        watch(camera, operator, at, django_capture_on_commit_callbacks)

    assert notice_digests_send(now=local(TODAY, 6, 59)) == 0  # before NOTICE_DIGEST_HOUR (7)
    assert notice_digests_send(now=local(TODAY, 7)) == 1
    assert notice_digests_send(now=local(TODAY, 8)) == 0
    assert notice_digests_send(now=local(TODAY, 23, 59)) == 0

    [message] = mail.outbox
    assert message.to == [shop.email]
    assert message.subject == f"Police watched your cameras live 2 times on {date_format(YESTERDAY, 'DATE_FORMAT')}"
    assert "09:15" in message.body and "22:40" in message.body and "01:00" not in message.body
    assert "Shop door" in message.body and "Back office" not in message.body
    assert operator.staff_label in message.body and operator.email not in message.body
    assert "/access-log/" in message.body and "/account/" in message.body
    assert message.extra_headers["Message-ID"].startswith("<live-view-digest-")
    digest = NoticeDigest.objects.get()
    assert (digest.owner, digest.day, digest.live_views) == (shop, YESTERDAY, 2) and digest.sent_at is not None
    assert LiveSession.objects.filter(owner_notified_at__isnull=False).count() == 2


def test_the_digest_hour_is_a_setting(door, shop, operator, settings, django_capture_on_commit_callbacks):
    settings.NOTICE_DIGEST_HOUR = 18
    set_notice(shop, "digest")
    watch(door, operator, local(YESTERDAY, 12), django_capture_on_commit_callbacks)

    assert notice_digests_send(now=local(TODAY, 17, 59)) == 0
    assert notice_digests_send(now=local(TODAY, 18)) == 1


def test_a_day_nobody_watched_sends_nothing(door, shop):
    set_notice(shop, "digest")

    assert notice_digests_send(now=local(TODAY, 9)) == 0
    assert mail.outbox == [] and not NoticeDigest.objects.exists()


def test_views_already_emailed_one_by_one_are_not_repeated(door, shop, operator, django_capture_on_commit_callbacks):
    watch(door, operator, local(YESTERDAY, 10), django_capture_on_commit_callbacks)  # "each": e-mailed at once
    set_notice(shop, "digest")
    watch(door, operator, local(YESTERDAY, 15), django_capture_on_commit_callbacks)

    assert notice_digests_send(now=local(TODAY, 9)) == 1

    assert len(mail.outbox) == 2
    assert "15:00" in mail.outbox[1].body and "10:00" not in mail.outbox[1].body
    assert mail.outbox[1].subject.startswith("Police watched your cameras live once on ")


def test_each_owner_gets_their_own_digest_in_their_language(door, shop, operator, waivers,
                                                          django_capture_on_commit_callbacks):
    neighbour = OwnerFactory(email="vecina@example.org", account_type="business", business_name="Panadería",
                             language="es")
    sign_waiver(neighbour)
    theirs = live_camera(neighbour, "Puerta")
    for owner in (shop, neighbour):
        set_notice(owner, "digest")
    watch(door, operator, local(YESTERDAY, 10), django_capture_on_commit_callbacks)
    watch(theirs, operator, local(YESTERDAY, 11), django_capture_on_commit_callbacks)

    assert notice_digests_send(now=local(TODAY, 9)) == 2

    by_owner = {message.to[0]: message for message in mail.outbox}
    assert "Shop door" in by_owner[shop.email].body and "Puerta" not in by_owner[shop.email].body
    assert "Puerta" in by_owner[neighbour.email].body and "Shop door" not in by_owner[neighbour.email].body
    assert by_owner[neighbour.email].body.startswith("Hola")


def test_a_worker_that_crashed_after_claiming_is_recovered_after_the_lease(door, shop, operator,
                                                                          django_capture_on_commit_callbacks):
    set_notice(shop, "digest")
    watch(door, operator, local(YESTERDAY, 10), django_capture_on_commit_callbacks)
    crashed_at = local(TODAY, 7, 5)
    assert notice_digest_claim(owner_id=shop.pk, day=YESTERDAY, now=crashed_at) is not None  # then it died

    assert notice_digests_send(now=crashed_at + timedelta(minutes=1)) == 0
    assert notice_digests_send(now=crashed_at + DIGEST_LEASE - timedelta(seconds=1)) == 0
    assert mail.outbox == []
    assert notice_digests_send(now=crashed_at + DIGEST_LEASE) == 1
    assert notice_digests_send(now=crashed_at + DIGEST_LEASE + timedelta(hours=1)) == 0
    assert len(mail.outbox) == 1


def test_a_refused_email_frees_the_claim_and_the_next_run_sends_it(door, shop, operator, smtp_server,
                                                                  django_capture_on_commit_callbacks):
    set_notice(shop, "digest")
    watch(door, operator, local(YESTERDAY, 10), django_capture_on_commit_callbacks)
    smtp_server.refused.add(shop.email)

    assert notice_digests_send(now=local(TODAY, 7)) == 0
    assert NoticeDigest.objects.get().claimed_until is None and NoticeDigest.objects.get().sent_at is None

    smtp_server.refused.clear()
    assert notice_digests_send(now=local(TODAY, 8)) == 1
    assert smtp_server.recipients() == [shop.email]


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_each_digest_exactly_once(business, waivers, operator, dev_mail,
                                                          django_capture_on_commit_callbacks):
    owners = [business, *(OwnerFactory(account_type="business", business_name=f"Shop {n}") for n in range(5))]
    for owner in owners:
        sign_waiver(owner)
        set_notice(owner, "digest")
        watch(live_camera(owner, f"Door of {owner.email}"), operator, local(YESTERDAY, 10),
              django_capture_on_commit_callbacks)
    start = threading.Barrier(2)
    results, errors = [], []

    def worker():
        try:
            start.wait()
            results.append(notice_digests_send(now=local(TODAY, 7, 30)))
        except Exception as error:  # reported below: a failure in a thread would otherwise pass silently
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(OutboxEmail.objects.values_list("to", flat=True)) == sorted(owner.email for owner in owners)
    assert sum(results) == len(owners)
    assert NoticeDigest.objects.filter(sent_at__isnull=False).count() == len(owners)


def test_the_digest_job_is_scheduled_hourly_by_the_migration():
    schedule = Schedule.objects.get(func="portal.tasks.send_notice_digests")

    assert schedule.schedule_type == Schedule.HOURLY and schedule.repeats == -1


def test_the_scheduled_task_sends_what_is_due_now(door, shop, operator, settings,
                                                 django_capture_on_commit_callbacks):
    settings.NOTICE_DIGEST_HOUR = 0
    set_notice(shop, "digest")
    watch(door, operator, local(YESTERDAY, 12), django_capture_on_commit_callbacks)

    assert send_notice_digests() == 1
    assert send_notice_digests() == 0


def test_the_digest_day_is_the_previous_local_day_from_the_hour():
    assert digest_day_due(local(TODAY, 6, 59)) is None
    assert digest_day_due(local(TODAY, 7)) == YESTERDAY
    assert digest_day_due(local(TODAY, 23, 59)) == YESTERDAY


def test_a_local_day_is_25_hours_long_when_the_clocks_go_back():
    from datetime import date

    start, end = day_bounds(date(2026, 11, 1))  # New York leaves daylight-saving time

    assert end - start == timedelta(hours=25)


def test_the_digest_hour_must_be_an_hour(monkeypatch):
    monkeypatch.setenv("NOTICE_DIGEST_HOUR", "24")

    with pytest.raises(ImproperlyConfigured, match="above the maximum of 23"):
        env_int("NOTICE_DIGEST_HOUR", 7, minimum=0, maximum=23)


def test_the_dashboard_rules_say_how_the_owner_is_told(door, shop):
    lines = {notice: None for notice in User.LiveViewNotice.values}
    for notice in lines:
        set_notice(shop, notice)
        lines[notice] = [str(line) for line in Camera.objects.select_related("rules").get(pk=door.pk).rules.summary()]

    assert "E-mail me on each live view" in lines["each"]
    assert "Live views listed in my daily e-mail" in lines["digest"]
    assert "Live views: no e-mail (my account's notice choice)" in lines["none"]


# --- Choosing: the account page --------------------------------------------------------------------

def test_the_owner_chooses_on_the_account_page_and_it_is_audited(client, login, shop):
    login(client, shop)
    page = client.get("/account/").content.decode()
    assert re.search(r'name="live_view_notice"\s+id="id_live_view_notice_0" value="each" checked', page)

    response = client.post("/account/notices/", {"live_view_notice": "digest"}, follow=True)

    shop.refresh_from_db()
    assert shop.live_view_notice == "digest"
    assert "Your live-view notice choice was saved" in response.content.decode()
    event = AuditEvent.objects.get(action="notices.changed")
    assert (event.actor, event.details) == (shop, {"live_view_notice": "digest", "previous": "each"})
    page = client.get("/account/").content.decode()
    assert re.search(r'value="digest"[^>]*checked', page) and not re.search(r'value="each"[^>]*checked', page)


def test_choosing_the_same_again_writes_no_audit_event(client, login, shop):
    login(client, shop)

    client.post("/account/notices/", {"live_view_notice": "each"})

    assert not AuditEvent.objects.filter(action="notices.changed").exists()


@pytest.mark.parametrize("value", ["", "weekly", "EACH"])
def test_a_bad_choice_changes_nothing_and_says_why(client, login, shop, value):
    login(client, shop)

    response = client.post("/account/notices/", {"live_view_notice": value}, follow=True)

    shop.refresh_from_db()
    assert shop.live_view_notice == "each"
    assert "Choose how you want to hear of live views" in response.content.decode()
    assert not AuditEvent.objects.filter(action="notices.changed").exists()


@pytest.mark.parametrize("role", ["officer", "operator", "supervisor", "oversight"])
def test_staff_cannot_choose_notices_and_see_no_form(client, login, request, role):
    staff = request.getfixturevalue(role)
    login(client, staff)

    assert client.post("/account/notices/", {"live_view_notice": "none"}).status_code == 403
    assert 'name="live_view_notice"' not in client.get("/account/").content.decode()
    staff.refresh_from_db()
    assert staff.live_view_notice == "each"


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.post("/account/notices/", {"live_view_notice": "none"})

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_notice_choice_page_answers_only_post(client, login, shop):
    login(client, shop)

    assert client.get("/account/notices/").status_code == 405


# --- Choosing: PATCH /api/v1/me/ --------------------------------------------------------------------

def test_the_owner_chooses_through_the_api(client, login, shop):
    login(client, shop)
    assert client.get("/api/v1/me/").json()["live_view_notice"] == "each"

    response = client.patch("/api/v1/me/", {"live_view_notice": "none"}, content_type="application/json")

    assert response.status_code == 200 and response.json()["live_view_notice"] == "none"
    shop.refresh_from_db()
    assert shop.live_view_notice == "none"
    assert AuditEvent.objects.get(action="notices.changed").details == {"live_view_notice": "none",
                                                                       "previous": "each"}


@pytest.mark.parametrize(("body", "field"), [
    ({"live_view_notice": "weekly"}, "live_view_notice"),
    ({}, "live_view_notice"),
    ({"live_view_notice": "digest", "email": "new@example.org"}, "email"),
    ({"is_staff": True}, "live_view_notice"),
])
def test_the_api_refuses_bad_input_and_changes_nothing(client, login, shop, body, field):
    login(client, shop)

    response = client.patch("/api/v1/me/", body, content_type="application/json")

    assert response.status_code == 400 and field in response.json()
    shop.refresh_from_db()
    assert (shop.live_view_notice, shop.email, shop.is_staff) == ("each", "shop@example.org", False)
    assert not AuditEvent.objects.filter(action="notices.changed").exists()


@pytest.mark.parametrize("role", ["officer", "operator", "supervisor", "oversight"])
def test_staff_cannot_patch_me(client, login, request, role):
    login(client, request.getfixturevalue(role))

    response = client.patch("/api/v1/me/", {"live_view_notice": "none"}, content_type="application/json")

    assert response.status_code == 403


def test_signed_out_callers_cannot_patch_me(client):
    response = client.patch("/api/v1/me/", {"live_view_notice": "none"}, content_type="application/json")

    assert response.status_code == 403


def test_the_openapi_schema_documents_the_patch(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    patch = schema["paths"]["/api/v1/me/"]["patch"]
    request_schema = patch["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert set(patch["responses"]) >= {"200", "400", "403"}
    properties = schema["components"]["schemas"][request_schema]["properties"]
    assert list(properties) == ["live_view_notice"]
    assert "enum" in str(properties["live_view_notice"]) or "$ref" in str(properties["live_view_notice"])
    assert "live_view_notice" in schema["components"]["schemas"]["Me"]["properties"]
