import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from cameras.tests.factories import CameraFactory
from portal.models import AuditEvent
from portal.tests.factories import OwnerFactory, sign_waiver
from requests_app import services
from requests_app.models import AreaRequest, FootageRequest
from requests_app.tests.factories import IncidentFactory
from requests_app.tokens import token_hash

pytestmark = pytest.mark.django_db
LAT, LNG = 40.7128, -74.0060


def owner_with_camera(metres_north, *, sign=True, **rules):
    owner = OwnerFactory()
    if sign:
        sign_waiver(owner)
    CameraFactory(owner=owner, latitude=LAT + metres_north / 111_195, longitude=LNG, rules=rules)
    return owner


def send(sender, incident, *, radius_m=300, hours=2, **extra):
    end = timezone.now() - timedelta(hours=1)
    return services.area_request_create(incident=incident, sender=sender, latitude=LAT, longitude=LNG,
                                        radius_m=radius_m, window_start=end - timedelta(hours=hours),
                                        window_end=end, message="Did anyone see a grey van?", **extra)


@pytest.fixture
def incident(db):
    return IncidentFactory(latitude=LAT, longitude=LNG)


def test_a_request_within_the_limits_goes_to_each_available_owner_once(operator, waivers, incident,
                                                                        django_capture_on_commit_callbacks):
    near = owner_with_camera(100)
    CameraFactory(owner=near, latitude=LAT + 120 / 111_195, longitude=LNG)  # a second camera, same owner
    paused = owner_with_camera(150, paused_until=timezone.now() + timedelta(days=1))
    unsigned = owner_with_camera(200, sign=False)
    no_requests = owner_with_camera(250, accept_requests=False)
    far = owner_with_camera(900)

    with django_capture_on_commit_callbacks(execute=True):
        area_request = send(operator, incident)

    assert area_request.status == AreaRequest.Status.SENT
    footage_request = FootageRequest.objects.get()
    assert footage_request.owner == near and footage_request.cameras.count() == 2
    assert {fr.owner for fr in FootageRequest.objects.all()}.isdisjoint({paused, unsigned, no_requests, far})
    assert [message.to for message in mail.outbox] == [[near.email]]
    assert FootageRequest.objects.get().email_state == FootageRequest.EmailState.SENT
    assert AuditEvent.objects.filter(action="request.sent", camera_owner=near).count() == 2


def test_the_preview_says_who_will_not_be_asked_and_why(waivers):
    owner_with_camera(100)
    owner_with_camera(150, paused_until=timezone.now() + timedelta(days=1))
    owner_with_camera(200, sign=False)

    preview = services.area_request_preview(latitude=LAT, longitude=LNG, radius_m=300)

    assert preview["counts"] == {"cameras": 3, "integrated": 0, "registered": 3, "owners_asked": 1,
                                 "owners_not_asked": 2}
    assert sorted(item["reason"] for item in preview["not_asked"]) == [
        "The owner has not signed the current program agreement.", "The owner has paused sharing."]


def test_the_email_link_opens_only_that_request(client, operator, waivers, incident,
                                                django_capture_on_commit_callbacks):
    owner_with_camera(100)
    owner_with_camera(120)
    with django_capture_on_commit_callbacks(execute=True):
        send(operator, incident)

    links = [re.search(r"http://[^/]+(/r/[\w-]+/)", message.body).group(1) for message in mail.outbox]
    tokens = [link.split("/")[2] for link in links]
    assert len(set(tokens)) == 2 and all(len(token) >= 43 for token in tokens)
    stored = set(FootageRequest.objects.values_list("token_hash", flat=True))
    assert stored == {token_hash(token) for token in tokens}
    assert not any(token in stored for token in tokens)


@pytest.mark.parametrize(("radius_m", "hours"), [(1000, 2), (300, 13)])
def test_beyond_a_limit_an_operator_needs_a_supervisor(operator, supervisor, waivers, incident, radius_m, hours,
                                                       django_capture_on_commit_callbacks):
    owner_with_camera(100)

    area_request = send(operator, incident, radius_m=radius_m, hours=hours)

    assert area_request.status == AreaRequest.Status.AWAITING_APPROVAL
    assert len(area_request.over_limits) == 1
    assert not FootageRequest.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        services.area_request_decide(area_request=area_request, supervisor=supervisor, approve=True)
    assert FootageRequest.objects.count() == 1 and len(mail.outbox) == 1


def test_an_operator_cannot_approve_and_a_decision_is_final(operator, supervisor, waivers, incident):
    area_request = send(operator, incident, radius_m=2000)

    with pytest.raises(PermissionDenied):
        services.area_request_decide(area_request=area_request, supervisor=operator, approve=True)
    services.area_request_decide(area_request=area_request, supervisor=supervisor, approve=False, note="Too wide")
    with pytest.raises(ValidationError):
        services.area_request_decide(area_request=area_request, supervisor=supervisor, approve=True)
    assert not FootageRequest.objects.exists()


@pytest.mark.parametrize(("change", "field"), [
    ({"case_number": ""}, "case_number"),
    ({"window": "reversed"}, "window_end"),
    ({"window": "future"}, "window_start"),
    ({"blocked": True}, "incident"),
])
def test_requests_no_approval_can_fix_are_refused_with_a_reason(operator, settings, waivers, change, field):
    incident = IncidentFactory(case_number="")
    settings.AREA_REQUEST_BLOCKED_TYPES = ["burglary"] if change.get("blocked") else []
    now = timezone.now()
    start, end = now - timedelta(hours=2), now - timedelta(hours=1)
    if change.get("window") == "reversed":
        start, end = end, start
    if change.get("window") == "future":
        start, end = now + timedelta(hours=1), now + timedelta(hours=2)

    with pytest.raises(ValidationError) as error:
        services.area_request_create(incident=incident, sender=operator, latitude=LAT, longitude=LNG, radius_m=300,
                                     window_start=start, window_end=end,
                                     case_number=change.get("case_number", "CASE-1"))

    assert field in error.value.message_dict
    assert not AreaRequest.objects.exists()


@pytest.mark.parametrize("role", ["officer", "oversight", "resident"])
def test_only_roles_with_the_send_permission_send(request, waivers, incident, role):
    with pytest.raises(PermissionDenied):
        send(request.getfixturevalue(role), incident)


def test_a_failed_email_is_retried_later_and_then_delivered(operator, waivers, incident, settings, smtp_server,
                                                           django_capture_on_commit_callbacks):
    owner = owner_with_camera(100)
    settings.EMAIL_PORT = 1  # nothing listens there: the first attempt fails
    with django_capture_on_commit_callbacks(execute=True):
        send(operator, incident)
    footage_request = FootageRequest.objects.get()
    assert footage_request.email_state == FootageRequest.EmailState.FAILED
    assert footage_request.email_attempts == 1 and footage_request.email_last_error

    settings.EMAIL_PORT = smtp_server.port
    FootageRequest.objects.update(email_next_attempt_at=timezone.now())
    from requests_app.tasks import retry_failed_emails

    assert retry_failed_emails() == 1
    assert smtp_server.recipients() == [owner.email]
    assert FootageRequest.objects.get().email_state == FootageRequest.EmailState.SENT


def test_an_e_mail_left_sending_by_a_crash_is_sent_by_the_retry_job_after_its_lease(operator, waivers, incident,
                                                                                   smtp_server):
    from requests_app.tasks import retry_failed_emails

    owner = owner_with_camera(100)
    send(operator, incident)
    FootageRequest.objects.update(email_state=FootageRequest.EmailState.SENDING,
                                  email_next_attempt_at=timezone.now() + timedelta(minutes=4))
    assert retry_failed_emails() == 0

    FootageRequest.objects.update(email_next_attempt_at=timezone.now() - timedelta(seconds=1))

    assert retry_failed_emails() == 1
    assert smtp_server.recipients() == [owner.email]
