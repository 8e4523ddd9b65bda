"""Live sessions: starting under the policy, re-checks, ends, the owner's e-mail and log, the video wall."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.core import mail
from django.utils import timezone

from cameras.geo import approximate_location, destination_point
from cameras.live import live_candidates, live_session_authorize, live_session_end, live_session_start
from cameras.models import Camera, LiveSession
from cameras.policy import access_ends_at
from cameras.services import sharing_pause_all, stream_source_set
from cameras.tests.factories import CameraFactory
from portal.models import AuditEvent
from portal.tests.factories import OwnerFactory, sign_waiver
from requests_app.tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db
LAT, LNG = 40.7128, -74.0060


def live_camera(owner, *, kind="mjpeg", metres_north=0, url="http://cam.example.net/video", **rules):
    rules.setdefault("live_mode", "always")
    latitude, longitude = destination_point(LAT, LNG, 0.0, metres_north) if metres_north else (LAT, LNG)
    camera = CameraFactory(owner=owner, access_level=Camera.AccessLevel.INTEGRATED, latitude=latitude,
                           longitude=longitude, rules=rules)
    stream_source_set(camera=camera, actor=owner, kind=kind, url=url)
    return camera


def publish_new_waiver():
    from portal import roles
    from portal.services import waiver_create, waiver_publish
    from portal.tests.factories import StaffFactory

    author = StaffFactory(roles=[roles.SUPERVISOR])
    draft = waiver_create(audience="business", title="Agreement, second version", body="New terms.", actor=author)
    waiver_publish(waiver=draft, actor=author)


def facts(camera):
    return Camera.objects.with_policy_facts().select_related("stream").get(pk=camera.pk)


@pytest.fixture
def signed_business(business, waivers):
    sign_waiver(business)
    return business


@pytest.fixture
def camera(signed_business):
    return live_camera(signed_business)


def test_a_session_starts_when_the_policy_allows_and_stores_only_the_token_hash(camera, operator):
    started = live_session_start(camera=facts(camera), viewer=operator, ip_address="198.51.100.4")

    assert started.decision.allowed and started.token
    session = LiveSession.objects.get()
    assert session.token_hash != started.token and len(session.token_hash) == 64
    assert session.expires_at - session.started_at == timedelta(minutes=60)
    actions = list(AuditEvent.objects.filter(camera=camera).values_list("action", "outcome"))
    assert ("live.access", "allowed") in actions and ("live.started", "done") in actions
    assert AuditEvent.objects.get(action="live.started").details["code"] == "always"


def test_no_session_when_the_policy_refuses_and_the_refusal_is_audited(signed_business, operator):
    camera = live_camera(signed_business, live_mode="never")

    started = live_session_start(camera=facts(camera), viewer=operator)

    assert not started.decision.allowed and started.token is None and started.session is None
    assert started.decision.code == "live_never"
    assert not LiveSession.objects.exists()
    assert AuditEvent.objects.get(action="live.access").outcome == "denied"


def test_authorize_accepts_only_the_same_viewer_and_camera(camera, signed_business, operator, officer):
    other = live_camera(signed_business)
    token = live_session_start(camera=facts(camera), viewer=operator).token

    assert live_session_authorize(token, viewer=operator).camera_id == camera.pk
    assert live_session_authorize(token, viewer=operator, camera_id=camera.pk) is not None
    assert live_session_authorize(token, viewer=officer) is None
    assert live_session_authorize(token, viewer=operator, camera_id=other.pk) is None
    assert live_session_authorize("not-a-token", viewer=operator) is None
    assert live_session_authorize(token, viewer=operator) is not None  # refusing others did not end it


def test_a_pause_ends_the_session_at_the_next_recheck_with_the_reason(camera, signed_business, operator):
    token = live_session_start(camera=facts(camera), viewer=operator).token
    sharing_pause_all(owner=signed_business, until=timezone.now() + timedelta(hours=1))

    assert live_session_authorize(token, viewer=operator, recheck=True) is None

    session = LiveSession.objects.get()
    assert session.end_code == "paused" and session.ended_at is not None
    ended = AuditEvent.objects.get(action="live.ended")
    assert ended.details["code"] == "paused" and ended.camera_id == camera.pk
    assert live_session_authorize(token, viewer=operator, recheck=True) is None
    assert AuditEvent.objects.filter(action="live.ended").count() == 1


def test_rechecks_happen_at_most_every_few_seconds(camera, signed_business, operator, settings):
    settings.LIVE_RECHECK_SECONDS = 3
    start = timezone.now()
    token = live_session_start(camera=facts(camera), viewer=operator, at=start).token
    sharing_pause_all(owner=signed_business, until=start + timedelta(hours=1))

    assert live_session_authorize(token, viewer=operator, at=start + timedelta(seconds=2)) is not None
    assert live_session_authorize(token, viewer=operator, at=start + timedelta(seconds=3)) is None


@pytest.mark.parametrize(("change", "code"), [
    (lambda camera: camera.delete(), "camera_deleted"),
    (lambda camera: publish_new_waiver(), "waiver_not_current"),
    (lambda camera: Camera.objects.filter(pk=camera.pk).update(access_level="registered"), "not_integrated"),
])
def test_the_session_ends_when_the_facts_change(camera, operator, change, code):
    token = live_session_start(camera=facts(camera), viewer=operator).token
    change(camera)

    assert live_session_authorize(token, viewer=operator, recheck=True) is None
    assert LiveSession.objects.get().end_code == code
    event = AuditEvent.objects.get(action="live.ended")
    assert event.details["code"] == code and event.camera_owner_id == camera.owner_id


def test_expired_and_idle_sessions_end(signed_business, operator):
    mjpeg, snapshot = live_camera(signed_business), live_camera(signed_business, kind="snapshot")
    now = timezone.now()
    expiring = live_session_start(camera=facts(mjpeg), viewer=operator, at=now - timedelta(minutes=61)).token
    idle = live_session_start(camera=facts(snapshot), viewer=operator, at=now - timedelta(seconds=31)).token

    assert live_session_authorize(expiring, viewer=operator, at=now) is None
    assert live_session_authorize(idle, viewer=operator, at=now) is None
    assert dict(LiveSession.objects.values_list("camera_id", "end_code")) == {mjpeg.pk: "expired",
                                                                              snapshot.pk: "idle"}


def test_ending_is_idempotent(camera, operator):
    session = live_session_start(camera=facts(camera), viewer=operator).session

    assert live_session_end(session=session, code="stopped") is True
    assert live_session_end(session=session, code="stopped") is False
    assert AuditEvent.objects.filter(action="live.ended").count() == 1


def test_the_owner_is_emailed_on_live_view_when_they_asked(signed_business, operator, incident_nearby,
                                                         django_capture_on_commit_callbacks):
    camera = live_camera(signed_business, notify_on_live_view=True)

    with django_capture_on_commit_callbacks(execute=True):
        live_session_start(camera=facts(camera), viewer=operator, incident=incident_nearby)

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [signed_business.email]
    assert camera.name in message.subject
    assert operator.staff_label in message.body and incident_nearby.reference in message.body
    assert operator.email not in message.body and "police.example.org" not in message.body


def test_no_email_unless_the_owner_asked(camera, operator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        live_session_start(camera=facts(camera), viewer=operator)

    assert mail.outbox == []


def test_the_owners_access_log_shows_live_viewing_started_and_ended(client, login, camera, signed_business,
                                                                    operator):
    session = live_session_start(camera=facts(camera), viewer=operator).session
    live_session_end(session=session, code="stopped")
    login(client, signed_business)

    page = client.get("/access-log/").content.decode()

    assert "Live viewing started" in page and "Live viewing ended" in page
    assert operator.staff_label in page


# --- access_ends_at ----------------------------------------------------------------------------

NOW = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)  # Wednesday 10:00 in New York
NY = timezone.get_fixed_timezone(-5 * 60)


def built(**rules):
    camera = CameraFactory.build(access_level=Camera.AccessLevel.INTEGRATED, latitude=LAT, longitude=LNG,
                                 rules=rules)
    return camera


def alarm(minutes_ago, kind="alarm"):
    return SimpleNamespace(kind=kind, latitude=LAT, longitude=LNG, occurred_at=NOW - timedelta(minutes=minutes_ago))


def local(day, hour, minute=0):
    """Aware New York time on November `day`, 2026 (EST, UTC-5)."""
    return datetime(2026, 11, day, hour, minute, tzinfo=NY)


def window(days, start, end):
    return {"days": days, "start": start, "end": end}


ENDS_TABLE = [
    ("always has no end", {"live_mode": "always"}, NOW, None, None),
    ("never gives nothing to end", {"live_mode": "never"}, NOW, None, None),
    ("inside a day window", {"live_mode": "schedule", "schedule": [window([2], "09:00", "17:00")]}, NOW, None,
     local(18, 17)),
    ("outside every window", {"live_mode": "schedule", "schedule": [window([2], "11:00", "17:00")]}, NOW, None,
     None),
    ("a window across midnight ends the next morning",
     {"live_mode": "schedule", "schedule": [window([2], "18:00", "07:00")]}, local(18, 23), None, local(19, 7)),
    ("after midnight, in yesterday's window",
     {"live_mode": "schedule", "schedule": [window([1], "18:00", "07:00")]}, local(18, 3), None, local(18, 7)),
    ("adjoining windows count as one",
     {"live_mode": "schedule", "schedule": [window([2], "08:00", "12:00"), window([2], "12:00", "14:30")]}, NOW,
     None, local(18, 14, 30)),
    ("overlapping windows: the later end",
     {"live_mode": "schedule", "schedule": [window([2], "08:00", "11:00"), window([2], "09:30", "13:00")]}, NOW,
     None, local(18, 13)),
    ("alarm period end", {"live_mode": "incident", "incident_minutes": 30}, NOW, alarm(10),
     NOW + timedelta(minutes=20)),
    ("alarm period over", {"live_mode": "incident", "incident_minutes": 30}, NOW, alarm(31), None),
    ("no incident", {"live_mode": "incident"}, NOW, None, None),
]


@pytest.mark.parametrize(("description", "rules", "at", "incident", "expected"), ENDS_TABLE,
                         ids=[row[0] for row in ENDS_TABLE])
def test_access_ends_at(description, rules, at, incident, expected):
    assert access_ends_at(built(**rules), at, incident) == expected


def test_access_ends_at_reads_windows_in_the_citys_zone_across_a_dst_change():
    # Sunday 1 November 2026: clocks go back at 02:00 in New York; a 22:00–06:00 Saturday window
    # ends at 06:00 EST, 11:00 UTC.
    camera = built(live_mode="schedule", schedule=[window([5], "22:00", "06:00")])

    assert access_ends_at(camera, datetime(2026, 11, 1, 5, 0, tzinfo=UTC), None) == datetime(
        2026, 11, 1, 11, 0, tzinfo=UTC)


# --- The video wall ----------------------------------------------------------------------------


@pytest.fixture
def incident_nearby(db):
    return IncidentFactory(incident_type="alarm", latitude=LAT, longitude=LNG,
                           window_start=timezone.now() - timedelta(minutes=5),
                           window_end=timezone.now() + timedelta(hours=1))


def test_live_candidates_lists_allowed_cameras_nearest_first_with_reasons(signed_business, operator,
                                                                         incident_nearby):
    far = live_camera(signed_business, metres_north=600, live_mode="always")
    near = live_camera(signed_business, metres_north=100, live_mode="incident", incident_radius_m=200,
                       incident_minutes=30)
    scheduled_closed = live_camera(signed_business, metres_north=300, live_mode="schedule",
                                   schedule=[window([0], "00:00", "00:01")])
    never = live_camera(signed_business, metres_north=50, live_mode="never")
    live_camera(signed_business, metres_north=1500)  # beyond the wall's radius
    CameraFactory(owner=signed_business, latitude=LAT, longitude=LNG)  # registered only

    allowed, refused = live_candidates(incident=incident_nearby, viewer=operator)

    assert [item["id"] for item in allowed] == [near.pk, far.pk]
    assert allowed[0]["reason"] == "Owner allows live access during alarms within 200 m"
    assert allowed[0]["ends_at"] == incident_nearby.occurred_at + timedelta(minutes=30)
    assert allowed[0]["kind"] == "mjpeg" and 95 < allowed[0]["distance_m"] < 105
    assert allowed[1]["reason"] == "Owner allows live access at any time" and allowed[1]["ends_at"] is None
    assert [(item["id"], item["code"]) for item in refused] == [(never.pk, "live_never"),
                                                                (scheduled_closed.pk, "outside_schedule")]
    assert refused[0]["reason"] == "The owner does not allow live viewing."
    wall = AuditEvent.objects.get(action="live.wall")
    assert wall.details == {"allowed": [near.pk, far.pk],
                            "refused": {str(never.pk): "live_never", str(scheduled_closed.pk): "outside_schedule"}}
    assert not AuditEvent.objects.filter(action="live.access").exists()


def test_live_candidates_blurs_approximate_locations(signed_business, operator, incident_nearby):
    camera = live_camera(signed_business, metres_north=400, location_precision="approximate")

    allowed, _refused = live_candidates(incident=incident_nearby, viewer=operator)

    assert (allowed[0]["latitude"], allowed[0]["longitude"]) == approximate_location(camera.latitude,
                                                                                   camera.longitude)
    assert (allowed[0]["latitude"], allowed[0]["longitude"]) != (camera.latitude, camera.longitude)


def test_live_candidates_leaves_out_unverified_owners_and_refuses_unsigned_waivers(signed_business, operator,
                                                                                 incident_nearby, waivers):
    unsigned = OwnerFactory(account_type="business")
    camera = live_camera(unsigned)

    allowed, refused = live_candidates(incident=incident_nearby, viewer=operator)

    assert allowed == [] and [(item["id"], item["code"]) for item in refused] == [(camera.pk, "waiver_not_current")]


def test_the_schedule_reason_names_the_windows(signed_business, operator, incident_nearby):
    live_camera(signed_business, live_mode="schedule", schedule=[window(list(range(7)), "00:00", "23:59")])

    allowed, _refused = live_candidates(incident=incident_nearby, viewer=operator)

    assert allowed[0]["reason"] == "Owner allows live access every day 00:00–23:59"
