"""The oversight desk: sentences for every audited action, the filters, the five flags, the export and its
stand-alone verifier, who may open the desk, and the shift hours staff accounts carry."""

import csv
import io
import re
import subprocess
import sys
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from django.utils.html import escape

from cameras.live import live_session_end, live_session_start
from cameras.models import Camera
from cameras.services import live_access_check, stream_source_set
from cameras.tests.factories import CameraFactory
from incidents.services import incident_update
from portal import oversight as desk
from portal import roles
from portal.admin import UserChangeAdminForm
from portal.audit import GENESIS_HASH, audit_record
from portal.models import AuditEvent
from portal.tests.factories import OwnerFactory, StaffFactory, sign_waiver
from requests_app import services
from requests_app.models import FootageRequest
from requests_app.tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
VERIFIER = ROOT / "tools" / "verify_audit_export.py"
NY = ZoneInfo("America/New_York")


class Clock:
    """The time every service (and every audit event) sees, as in test_transparency: history written back in time."""

    def __init__(self, monkeypatch, start):
        self.now = start.astimezone(UTC)
        monkeypatch.setattr("django.utils.timezone.now", lambda: self.now)
        # AuditEvent.created_at's default is the function object itself, bound when the model was defined.
        monkeypatch.setattr(AuditEvent._meta.get_field("created_at"), "_get_default", lambda: self.now)

    def set(self, moment):
        self.now = moment.astimezone(UTC)
        return self.now


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch, datetime(2026, 5, 20, 12, 0, tzinfo=NY))


def ana(**extra):
    return StaffFactory(full_name="Ana Ruiz", badge_number="1001", roles=[roles.OFFICER], **extra)


def live_camera(owner, name="Front door", **rules):
    rules.setdefault("live_mode", "always")
    camera = CameraFactory(owner=owner, name=name, access_level=Camera.AccessLevel.INTEGRATED, rules=rules)
    stream_source_set(camera=camera, actor=owner, kind="mjpeg", url="http://cam.example.net/video")
    return Camera.objects.with_policy_facts().select_related("stream").get(pk=camera.pk)


def sentence_of(event):
    return desk.with_sentences(desk.events_for_reading(AuditEvent.objects.filter(pk=event.pk)))[0].sentence


# --- Sentences ------------------------------------------------------------------------------

def written_actions():
    """Every action the code writes, from the lines that call audit_record or the answer helper, or name the action."""
    found = set()
    for path in ROOT.glob("*/**/*.py"):
        if {".venv", "node_modules", "tests", "migrations"} & set(path.parts):
            continue
        text = path.read_text()
        found |= set(re.findall(r'audit_record\(\s*action="([a-z_]+\.[a-z_]+)"', text))
        for line in text.splitlines():
            if re.search(r"audit_record\(|_audit_\w+\(|\baction = ", line):
                found |= set(re.findall(r'"([a-z_]+\.[a-z_]+)"', line))
    return found


def test_every_action_the_code_writes_has_a_sentence():
    actions = written_actions()

    assert {"live.access", "footage.downloaded", "request.declined", "sharing.paused", "audit.exported"} <= actions
    assert sorted(actions - set(desk.ACTIONS)) == []


@pytest.fixture
def cast(db):
    """An officer, an owner with the camera "Front door", and an incident."""
    officer = ana()
    owner = OwnerFactory(full_name="Bo Owner", account_type="business", business_name="Bo's Bakery")
    camera = CameraFactory(owner=owner, name="Front door")
    return {"officer": officer, "owner": owner, "camera": camera, "incident": "2026-000042"}


def _sentence_cases():
    # (action, audit_record arguments as the code writes them, the sentence)
    officer, owner, system = "officer", "owner", None
    return [
        ("camera.registered", owner, {}, "Bo's Bakery registered the camera “Front door”."),
        ("camera.changed", owner, {}, "Bo's Bakery changed the details of the camera “Front door”."),
        ("camera.deleted", owner, {}, "Bo's Bakery removed the camera “Front door” from the program."),
        ("rules.changed", owner, {"details": {"changed": {"schedule": [], "live_mode": "schedule"}}},
         "Bo's Bakery changed the sharing rules of “Front door”: live_mode, schedule."),
        ("sharing.paused", owner, {"details": {"paused_until": "2026-05-21T16:00:00+00:00"}},
         "Bo's Bakery paused sharing of “Front door” until 2026-05-21 12:00."),
        ("sharing.resumed", owner, {"details": {"paused_until": None}}, "Bo's Bakery resumed sharing of “Front door”."),
        ("stream.changed", owner, {"details": {"kind": "mjpeg"}},
         "Bo's Bakery set the live stream source of “Front door” (mjpeg)."),
        ("stream.tested", owner, {"details": {"ok": False}},
         "Bo's Bakery tested the live stream of “Front door”: the camera did not answer."),
        ("live.access", officer, {"outcome": "allowed", "incident_reference": "2026-000042",
                                  "details": {"code": "schedule", "reason": "Within the schedule."}},
         "Officer Ana Ruiz (#1001) asked to watch “Front door” live for incident 2026-000042: allowed by the owner's "
         "schedule rule."),
        ("live.access", officer, {"outcome": "denied", "details": {"code": "paused", "reason": "x"}},
         "Officer Ana Ruiz (#1001) asked to watch “Front door” live, with no incident: refused, as the owner had "
         "paused sharing."),
        ("live.started", officer, {"incident_reference": "2026-000042",
                                   "details": {"code": "schedule", "incident": "2026-000042", "kind": "mjpeg"}},
         "Officer Ana Ruiz (#1001) watched “Front door” live for incident 2026-000042: allowed by the owner's "
         "schedule rule."),
        ("live.started", officer, {"details": {"code": "always", "incident": "", "kind": "mjpeg"}},
         "Officer Ana Ruiz (#1001) watched “Front door” live with no incident: allowed by the owner's rule to share "
         "live at any time."),
        ("live.ended", officer, {"details": {"code": "stopped", "reason": "The viewer stopped watching.",
                                             "seconds": 300}},
         "Officer Ana Ruiz (#1001) stopped watching “Front door” live after 5 min: the viewer stopped watching."),
        ("live.wall", officer, {"camera": None, "incident_reference": "2026-000042",
                                "details": {"allowed": [1, 2], "refused": {"3": "live_never"}}},
         "Officer Ana Ruiz (#1001) opened the live video wall of incident 2026-000042 (cameras shown: 2; refused by "
         "their owners' rules: 1)."),
        ("live.gateway", system, {"outcome": "denied", "details": {"action": "read", "protocol": "rtsp",
                                                                   "code": "no_session", "session": None}},
         "The media gateway asked to read “Front door” for an unknown viewer: refused, as there was no active live "
         "session."),
        ("camera.search", officer, {"camera": None, "details": {"lat": 40.7, "lng": -74.0, "radius_m": 250.0,
                                                                "found": 3}},
         "Officer Ana Ruiz (#1001) searched for cameras within 250 m of a point, with no incident, and found 3 "
         "cameras."),
        ("camera.search", officer, {"camera": None, "incident_reference": "2026-000042",
                                    "details": {"lat": 40.7, "lng": -74.0, "radius_m": 100, "found": 1}},
         "Officer Ana Ruiz (#1001) searched for cameras within 100 m of a point for incident 2026-000042 and found "
         "1 camera."),
        ("camera.map", officer, {"camera": None, "details": {"cameras": 12}},
         "Officer Ana Ruiz (#1001) opened the RTCC map of 12 cameras."),
        ("area_request.created", officer, {"camera": None, "incident_reference": "2026-000042",
                                           "details": {"radius_m": 1200, "over_limits": ["The radius..."],
                                                       "status": "awaiting_approval"}},
         "Officer Ana Ruiz (#1001) asked for footage within 1200 m for incident 2026-000042: beyond the city's "
         "limits, so it waited for a supervisor's approval."),
        ("area_request.created", officer, {"camera": None, "incident_reference": "2026-000042",
                                           "details": {"radius_m": 100, "over_limits": [], "status": "sent"}},
         "Officer Ana Ruiz (#1001) asked for footage within 100 m for incident 2026-000042: within the city's "
         "limits, sent at once."),
        ("area_request.approved", officer, {"camera": None, "incident_reference": "2026-000042",
                                            "details": {"note": ""}},
         "Officer Ana Ruiz (#1001) approved an area request beyond the city's limits for incident 2026-000042."),
        ("area_request.rejected", officer, {"camera": None, "incident_reference": "2026-000042",
                                            "details": {"note": "too wide"}},
         "Officer Ana Ruiz (#1001) rejected an area request beyond the city's limits for incident 2026-000042."),
        ("request.sent", officer, {"incident_reference": "2026-000042"},
         "Officer Ana Ruiz (#1001) asked the owner of “Front door” for footage for incident 2026-000042."),
        ("request.opened", owner, {"incident_reference": "2026-000042"},
         "Bo's Bakery opened the footage request about “Front door” for incident 2026-000042."),
        ("request.approved", owner, {"incident_reference": "2026-000042"},
         "Bo's Bakery agreed to share footage of “Front door” for incident 2026-000042."),
        ("request.declined", owner, {"incident_reference": "2026-000042", "details": {"no_footage": True}},
         "Bo's Bakery declined to share footage of “Front door” for incident 2026-000042."),
        ("footage.uploaded", owner, {"incident_reference": "2026-000042",
                                     "details": {"name": "porch.mp4", "size": 2048, "sha256_received": "ab"}},
         "Bo's Bakery uploaded porch.mp4 (2.0\xa0KB) of “Front door” for incident 2026-000042."),
        ("footage.accepted", system, {"incident_reference": "2026-000042", "details": {"sha256": "ab", "size": 1}},
         "The portal checked the footage of “Front door” for incident 2026-000042 and accepted it as video."),
        ("footage.rejected", system, {"incident_reference": "2026-000042",
                                      "details": {"reason": "This file is not a video we can read."}},
         "The portal rejected the footage of “Front door” for incident 2026-000042: this file is not a video we "
         "can read."),
        ("footage.viewed", officer, {"incident_reference": "2026-000042", "details": {"sha256": "ab"}},
         "Officer Ana Ruiz (#1001) played footage of “Front door” for incident 2026-000042."),
        ("footage.downloaded", officer, {"incident_reference": "2026-000042", "details": {"sha256": "ab"}},
         "Officer Ana Ruiz (#1001) downloaded footage of “Front door” for incident 2026-000042."),
        ("footage.custody_report", officer, {"incident_reference": "2026-000042"},
         "Officer Ana Ruiz (#1001) opened the chain-of-custody report of footage of “Front door” for incident "
         "2026-000042."),
        ("footage.purged", system, {"details": {"sha256": "ab", "rule": "evidence_retention"}},
         "The portal deleted footage of “Front door” under the evidence retention rule."),
        ("evidence.package_created", officer, {"camera": None, "incident_reference": "2026-000042",
                                               "details": {"submissions": [1, 2], "manifest_sha256": "ab"}},
         "Officer Ana Ruiz (#1001) put together an evidence package of incident 2026-000042 (files: 2)."),
        ("evidence.package_downloaded", officer, {"incident_reference": "2026-000042",
                                                  "details": {"package": "p", "sha256": "ab"}},
         "Officer Ana Ruiz (#1001) downloaded an evidence package with footage of “Front door” for incident "
         "2026-000042."),
        ("evidence.package_shared_download", system, {"incident_reference": "2026-000042",
                                                      "details": {"package": "p", "recipient": "DA J. Rivera"}},
         "The link given to DA J. Rivera downloaded an evidence package with footage of “Front door” for incident "
         "2026-000042."),
        ("evidence.package_link_created", officer, {"camera": None, "incident_reference": "2026-000042", "details": {
            "link": 1, "recipient": "DA J. Rivera", "expires_at": "2026-05-21T16:00:00+00:00"}},
         "Officer Ana Ruiz (#1001) gave DA J. Rivera a link to an evidence package of incident 2026-000042, until "
         "2026-05-21 12:00."),
        ("evidence.package_link_revoked", officer, {"camera": None, "incident_reference": "2026-000042",
                                                    "details": {"link": 1, "recipient": "DA J. Rivera"}},
         "Officer Ana Ruiz (#1001) revoked the link of DA J. Rivera to an evidence package of incident 2026-000042."),
        ("location.revealed", officer, {}, "Officer Ana Ruiz (#1001) saw the exact location of “Front door”."),
        ("incident.created", system, {"camera": None, "incident_reference": "2026-000042",
                                      "details": {"type": "burglary", "source": "cad"}},
         "A dispatch or alarm system opened incident 2026-000042 (Burglary, from CAD / 911)."),
        ("incident.changed", officer, {"camera": None, "incident_reference": "2026-000042", "details": None},
         "Officer Ana Ruiz (#1001) updated incident 2026-000042."),
        ("integration_key.created", officer, {"camera": None,
                                              "details": {"name": "County CAD", "kind": "cad", "prefix": "ab12"}},
         "Officer Ana Ruiz (#1001) created the API key “County CAD” (cad)."),
        ("integration_key.revoked", officer, {"camera": None,
                                              "details": {"name": "County CAD", "kind": "cad", "prefix": "ab12"}},
         "Officer Ana Ruiz (#1001) revoked the API key “County CAD”."),
        ("waiver.published", officer, {"camera": None, "details": {"audience": "business", "version": 2,
                                                                   "sha256": "ab"}},
         "Officer Ana Ruiz (#1001) published version 2 of the program agreement for Businesses."),
        ("waiver.signed", owner, {"camera": None, "details": {"version": 2, "sha256": "ab"}},
         "Bo's Bakery signed version 2 of the program agreement."),
        ("account.closed", owner, {"camera": None}, "Bo's Bakery closed their account and left the program."),
        ("footage.hold_placed", officer, {"camera": None, "incident_reference": "2026-000042",
                                             "details": {"reason": "Defence asked to preserve it.", "sha256": "ab"}},
         "Officer Ana Ruiz (#1001) placed a legal hold on a file of incident 2026-000042, so it is kept whatever the "
         "retention rules say: defence asked to preserve it."),
        ("footage.hold_lifted", officer, {"camera": None, "incident_reference": "2026-000042",
                                             "details": {"reason": "Case dismissed.", "sha256": "ab"}},
         "Officer Ana Ruiz (#1001) lifted the legal hold on a file of incident 2026-000042: case dismissed."),
        ("stream.onvif_discovered", owner, {"details": {"ok": True, "profiles": 2}},
         "Bo's Bakery looked up the stream of “Front door” with ONVIF: 2 streams found."),
        ("stream.onvif_discovered", owner, {"details": {"ok": False, "profiles": 0}},
         "Bo's Bakery looked up the stream of “Front door” with ONVIF: the camera did not answer as expected."),
        ("account.data_exported", owner, {"camera": None, "details": {"format": "csv"}},
         "Bo's Bakery downloaded a copy of their own data (CSV)."),
        ("notices.changed", owner, {"camera": None, "details": {"live_view_notice": "digest", "previous": "each"}},
         "Bo's Bakery chose how to hear of live views of their cameras: one e-mail a day, listing the previous "
         "day's live views."),
        ("audit.exported", officer, {"camera": None, "details": {"filters": {}, "rows": 12, "chain_head_id": 12}},
         "Officer Ana Ruiz (#1001) exported 12 audit events as CSV."),
        ("retention.something_new", officer, {"target": "camera:9"},
         "Officer Ana Ruiz (#1001): “retention.something_new” (Done) on camera:9."),
        ("retention.something_new", system, {"camera": None},
         "The portal: “retention.something_new” (Done)."),
    ]


SENTENCE_CASES = _sentence_cases()


@pytest.mark.parametrize(("action", "who", "arguments", "expected"), SENTENCE_CASES,
                         ids=[f"{case[0]}-{index}" for index, case in enumerate(SENTENCE_CASES)])
def test_each_action_reads_as_one_plain_sentence(cast, action, who, arguments, expected):
    arguments = dict(arguments)
    camera = arguments.pop("camera", cast["camera"])
    event = audit_record(action=action, actor=cast[who] if who else None, camera=camera, **arguments)

    assert sentence_of(event) == expected


def test_every_known_action_has_a_sentence_case():
    assert set(desk.ACTIONS) - {case[0] for case in SENTENCE_CASES} == set()


def test_a_real_policy_decision_reads_with_its_rule(cast, waivers):
    sign_waiver(cast["owner"])
    camera = live_camera(cast["owner"], name="Back yard", live_mode="schedule",
                         schedule=[{"days": [0, 1, 2, 3, 4, 5, 6], "start": "00:00", "end": "23:59"}])
    incident = IncidentFactory()

    live_access_check(camera=camera, viewer=cast["officer"], at=timezone.now(), incident=incident)

    event = AuditEvent.objects.get(action="live.access")
    assert sentence_of(event) == (f"Officer Ana Ruiz (#1001) asked to watch “Back yard” live for incident "
                                  f"{incident.reference}: allowed by the owner's schedule rule.")


def test_a_removed_camera_and_several_cameras_are_named_as_such(cast):
    gone = audit_record(action="footage.viewed", actor=cast["officer"], camera=cast["camera"],
                        incident_reference="2026-000042")
    several = audit_record(action="footage.viewed", actor=cast["officer"],
                           cameras=[cast["camera"], CameraFactory(owner=cast["owner"])],
                           incident_reference="2026-000042")
    camera_id = cast["camera"].pk
    cast["camera"].delete()

    assert sentence_of(gone) == (f"Officer Ana Ruiz (#1001) played footage of camera #{camera_id} (since removed) "
                                 "for incident 2026-000042.")
    assert "played footage of 2 cameras" in sentence_of(several)


# --- The browser and its filters ---------------------------------------------------------------

@pytest.fixture
def history(cast, operator, clock):
    """Events of two people on two days, allowed and refused, about two owners' cameras."""
    other_camera = CameraFactory(owner=OwnerFactory(full_name="Nia Neighbour"), name="Garage")
    clock.set(datetime(2026, 5, 18, 10, 0, tzinfo=NY))
    first = audit_record(action="live.access", actor=cast["officer"], camera=cast["camera"], outcome="allowed",
                         incident_reference="2026-000042", details={"code": "always"})
    clock.set(datetime(2026, 5, 19, 23, 30, tzinfo=NY))
    second = audit_record(action="live.access", actor=operator, camera=other_camera, outcome="denied",
                          details={"code": "live_never"})
    clock.set(datetime(2026, 5, 20, 9, 0, tzinfo=NY))
    third = audit_record(action="footage.downloaded", actor=operator, camera=cast["camera"],
                         incident_reference="2026-000077")
    return {"first": first, "second": second, "third": third, "garage": other_camera, **cast}


def ids_on(response):
    return [int(found) for found in re.findall(r"#(\d+) · <code>", response.content.decode())]


@pytest.mark.parametrize(("query", "expected"), [
    ("", ["third", "second", "first"]),
    ("incident=2026-000042", ["first"]),
    ("camera=Front", ["third", "first"]),
    ("camera=garage", ["second"]),
    ("owner=Nia", ["second"]),
    ("owner=bo%27s", ["third", "first"]),
    ("action=footage.downloaded", ["third"]),
    ("outcome=allowed", ["first"]),
    ("outcome=refused", ["second"]),
    ("outcome=recorded", ["third"]),
    ("date_from=2026-05-19&date_to=2026-05-19", ["second"]),
    ("date_from=2026-05-19", ["third", "second"]),
    ("date_to=2026-05-18", ["first"]),
])
def test_the_filters_narrow_the_log(client, login, oversight, history, query, expected):
    login(client, oversight)

    response = client.get(f"/oversight/?{query}")

    assert response.status_code == 200
    assert ids_on(response) == [history[name].pk for name in expected]


def test_the_staff_filter_and_a_camera_number(client, login, oversight, history, operator):
    login(client, oversight)

    assert ids_on(client.get(f"/oversight/?staff={operator.pk}")) == [history["third"].pk, history["second"].pk]
    assert ids_on(client.get(f"/oversight/?camera=%23{history['garage'].pk}")) == [history["second"].pk]


def test_bad_filters_say_how_to_fix_them_and_show_nothing(client, login, oversight, history):
    login(client, oversight)

    response = client.get("/oversight/?date_from=2026-05-20&date_to=2026-05-01&staff=999999")

    page = response.content.decode()
    assert "The end date is before the start date: choose a later end date." in page
    assert "Select a valid choice" in page
    assert ids_on(response) == []
    assert "Fix the filters above to see events." in page


def test_the_log_is_paginated_and_pages_keep_the_filters(client, login, oversight, cast):
    for number in range(55):
        audit_record(action="camera.search", actor=cast["officer"], details={"radius_m": 100, "found": number})
    login(client, oversight)

    first = client.get("/oversight/?action=camera.search")
    second = client.get("/oversight/?action=camera.search&page=2")

    assert len(ids_on(first)) == 50 and len(ids_on(second)) == 5
    assert 'href="?action=camera.search&amp;page=2"' in first.content.decode()
    assert "55 events" in first.content.decode()


def test_every_filter_has_a_label(client, login, oversight):
    login(client, oversight)

    page = client.get("/oversight/").content.decode()

    for name in ["staff", "incident", "camera", "owner", "action", "outcome", "date_from", "date_to"]:
        assert f'<label class="form-label fw-semibold" for="id_{name}">' in page


# --- Flags ----------------------------------------------------------------------------------

def flagged(slug):
    return list(desk.FLAGS_BY_SLUG[slug].events().values_list("pk", flat=True))


@pytest.fixture
def live_owner(business, waivers):
    sign_waiver(business)
    return business


def test_a_live_view_with_no_incident_is_flagged(live_owner, operator):
    camera = live_camera(live_owner)

    started = live_session_start(camera=camera, viewer=operator)

    assert started.session is not None
    assert flagged("live-without-incident") == [AuditEvent.objects.get(action="live.started").pk]


def test_a_live_view_for_an_incident_open_at_the_time_is_not_flagged(live_owner, operator):
    camera = live_camera(live_owner)
    incident = IncidentFactory()

    live_session_start(camera=camera, viewer=operator, incident=incident)
    incident_update(incident=incident, actor=operator, status="closed")  # closed afterwards: it was open then

    assert flagged("live-without-incident") == []


def test_a_live_view_for_an_incident_closed_before_is_flagged(live_owner, operator, clock):
    camera = live_camera(live_owner)
    incident = IncidentFactory()
    incident_update(incident=incident, actor=operator, status="closed")
    clock.set(clock.now + timedelta(hours=1))

    live_session_start(camera=camera, viewer=operator, incident=incident)

    assert flagged("live-without-incident") == [AuditEvent.objects.get(action="live.started").pk]


def test_a_cad_event_opens_an_incident_that_covers_a_live_view(live_owner, operator):
    from incidents.services import cad_event_receive, integration_key_create

    key, _ = integration_key_create(name="County CAD", kind="cad")
    camera = live_camera(live_owner, live_mode="incident", incident_radius_m=500)
    incident = cad_event_receive(key=key, external_id="CAD-1", event_type="Burglar alarm",
                                 latitude=camera.latitude, longitude=camera.longitude).incident

    live_session_start(camera=live_camera_facts(camera), viewer=operator, incident=incident)

    assert AuditEvent.objects.filter(action="live.started").exists()
    assert flagged("live-without-incident") == []


def live_camera_facts(camera):
    return Camera.objects.with_policy_facts().select_related("stream").get(pk=camera.pk)


def area_request(operator, radius_m, hours=1):
    incident = IncidentFactory()
    end = timezone.now() - timedelta(hours=1)
    return services.area_request_create(incident=incident, sender=operator, latitude=incident.latitude,
                                        longitude=incident.longitude, radius_m=radius_m,
                                        window_start=end - timedelta(hours=hours), window_end=end)


def test_requests_beyond_the_limits_are_flagged_and_those_within_are_not(operator, supervisor, settings):
    settings.AREA_REQUEST_MAX_RADIUS_M, settings.AREA_REQUEST_MAX_WINDOW_HOURS = 500, 12
    within = area_request(operator, 400)
    wide = area_request(operator, 800)
    long = area_request(supervisor, 100, hours=24)

    flagged_targets = set(AuditEvent.objects.filter(pk__in=flagged("over-limits")).values_list("target", flat=True))

    assert flagged_targets == {f"area_request:{wide.pk}", f"area_request:{long.pk}"}
    assert f"area_request:{within.pk}" not in flagged_targets


@pytest.fixture
def footage(operator, waivers, disk_footage):
    """A submission accepted for an incident opened by the operator, with an assigned officer."""
    from requests_app import submissions
    from requests_app.tests.factories import finished_upload
    from requests_app.tests.videos import make_mp4

    incident = IncidentFactory(created_by=operator)
    owner = OwnerFactory()
    sign_waiver(owner)
    CameraFactory(owner=owner, latitude=incident.latitude, longitude=incident.longitude)
    end = timezone.now() - timedelta(hours=1)
    services.area_request_create(incident=incident, sender=operator, latitude=incident.latitude,
                                 longitude=incident.longitude, radius_m=100, window_start=end - timedelta(hours=1),
                                 window_end=end)
    footage_request = services.footage_request_approve(footage_request=FootageRequest.objects.get())
    upload = finished_upload(footage_request, lambda path: make_mp4(path, seconds=1))
    submission = submissions.submission_create(footage_request=footage_request, upload=upload,
                                               uploader=footage_request.owner)
    submissions.submission_process(submission_id=submission.pk)
    submission.refresh_from_db()
    return incident, submission


def download(client, login, user, submission):
    login(client, user)
    response = client.get(f"/staff/evidence/{submission.pk}/file/?download=1")
    b"".join(response.streaming_content) if response.status_code == 200 else None
    return response


def test_downloads_by_staff_not_on_the_incident_are_flagged(client, login, footage, officer, operator):
    incident, submission = footage
    # Officers reach only their incidents' footage; another operator reaches every incident's.
    stranger = StaffFactory(roles=[roles.OPERATOR], full_name="Sam Stranger")
    incident.assigned_officers.set([officer])

    statuses = [download(client, login, user, submission).status_code for user in (operator, officer, stranger)]

    assert statuses == [200, 200, 200]
    downloads = AuditEvent.objects.filter(action="footage.downloaded")
    assert flagged("unassigned-downloads") == [downloads.get(actor=stranger).pk]


def test_shift_hours_flag_access_outside_them_and_wrap_midnight(clock, cast):
    day = StaffFactory(roles=[roles.OPERATOR], shift_start=time(8), shift_end=time(16))
    night = StaffFactory(roles=[roles.OPERATOR], shift_start=time(22), shift_end=time(6))
    unset = StaffFactory(roles=[roles.OPERATOR])
    events = {}
    for hour in (7, 9, 16, 23, 3, 12):
        clock.set(datetime(2026, 5, 20, hour, 30, tzinfo=NY))
        for name, person in (("day", day), ("night", night), ("unset", unset)):
            events[name, hour] = audit_record(action="camera.search", actor=person,
                                              details={"radius_m": 100, "found": 0}).pk
    clock.set(datetime(2026, 5, 20, 3, 0, tzinfo=NY))
    not_access = audit_record(action="waiver.published", actor=day, details={"version": 1}).pk

    found = set(flagged("outside-shift"))

    assert found == {events["day", hour] for hour in (7, 16, 23, 3)} | {events["night", hour] for hour in (7, 9, 16,
                                                                                                          12)}
    assert not_access not in found


def test_a_burst_of_refusals_by_one_person_is_flagged(clock, cast, operator, settings):
    settings.OVERSIGHT_REFUSALS_THRESHOLD = 5
    start = datetime(2026, 5, 20, 8, 0, tzinfo=NY)
    refusals = []
    for number in range(6):
        clock.set(start + timedelta(hours=3 * number))
        refusals.append(audit_record(action="live.access", actor=cast["officer"], camera=cast["camera"],
                                     outcome="denied", details={"code": "live_never"}))
        audit_record(action="live.access", actor=operator, camera=cast["camera"], outcome="allowed",
                     details={"code": "always"})

    events = list(desk.FLAGS_BY_SLUG["refusals"].events())

    assert [(event.pk, event.refusals_in_window) for event in events] == [(refusals[-1].pk, 6)]


def test_refusals_spread_over_more_than_a_day_or_under_the_threshold_are_not(clock, cast, operator, settings):
    settings.OVERSIGHT_REFUSALS_THRESHOLD = 5
    start = datetime(2026, 5, 20, 8, 0, tzinfo=NY)
    for number in range(6):  # six refusals, five hours apart: never more than five within 24 h
        clock.set(start + timedelta(hours=5 * number))
        audit_record(action="live.access", actor=cast["officer"], camera=cast["camera"], outcome="denied",
                     details={"code": "live_never"})
    for _ in range(5):  # five at once by someone else: not more than five
        audit_record(action="live.gateway", actor=operator, outcome="denied", details={"code": "no_session"})

    assert flagged("refusals") == []


def test_the_threshold_is_a_setting(clock, cast, settings):
    settings.OVERSIGHT_REFUSALS_THRESHOLD = 2
    for _ in range(3):
        audit_record(action="live.access", actor=cast["officer"], camera=cast["camera"], outcome="denied",
                     details={"code": "paused"})

    assert len(flagged("refusals")) == 1


def test_the_flags_page_states_each_rule_and_counts(client, login, oversight, settings, cast):
    settings.OVERSIGHT_REFUSALS_THRESHOLD = 7
    audit_record(action="live.started", actor=cast["officer"], camera=cast["camera"], details={"code": "always"})
    login(client, oversight)

    page = client.get("/oversight/flags/").content.decode()

    for flag in desk.FLAGS:
        assert escape(str(flag.title)) in page and escape(flag.rule) in page
    assert "More than 7 refused decisions by one person within 24 hours." in page
    detail = client.get("/oversight/flags/live-without-incident/").content.decode()
    assert "watched “Front door” live with no incident" in detail
    assert client.get("/oversight/flags/nothing-here/").status_code == 404


# --- Export and its verifier ----------------------------------------------------------------

def run_verifier(path):
    return subprocess.run([sys.executable, str(VERIFIER), str(path)],  # noqa: S603  (our own script)
                          capture_output=True, text=True, timeout=60)


def export(client, query=""):
    response = client.get(f"/oversight/export.csv{'?' + query if query else ''}")
    assert response.status_code == 200, response.content[:500]
    return b"".join(response.streaming_content).decode()


@pytest.fixture
def exported(client, login, oversight, history, tmp_path):
    audit_record(action="live.ended", actor=history["officer"], camera=history["camera"],
                 target="live:1", ip_address="2001:db8::1",
                 details={"code": "stopped", "reason": "Line one,\n\"quoted\" — ünïcödé", "seconds": 12})
    login(client, oversight)
    text = export(client)
    path = tmp_path / "export.csv"
    path.write_text(text)
    return path


def body_rows(text):
    lines = [line for line in text.splitlines(keepends=True) if not line.startswith("#")]
    return list(csv.DictReader(io.StringIO("".join(lines))))


def test_the_export_carries_every_hashed_field_and_the_chain_head(exported):
    text = exported.read_text()
    rows = body_rows(text)
    chain = list(AuditEvent.objects.in_chain_order())
    exported_event = chain.pop()  # the export's own event comes after the head it names

    assert exported_event.action == "audit.exported"
    assert [int(row["id"]) for row in rows] == [event.pk for event in chain]
    assert rows[0]["previous_hash"] == GENESIS_HASH
    assert f"# chain_head_hash: {chain[-1].hash}" in text and "# scope: complete" in text
    assert rows[-1]["ip_address"] == "2001:db8::1" and rows[-1]["sentence"].startswith("Officer Ana Ruiz")
    assert exported_event.details == {"filters": {}, "rows": len(chain), "chain_head_id": chain[-1].pk}


def test_the_verifier_passes_a_real_export(exported):
    result = run_verifier(exported)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK: complete export" in result.stdout


def test_the_verifier_names_the_row_whose_field_changed_by_one_byte(exported):
    text = exported.read_text()
    rows = body_rows(text)
    victim = rows[1]
    exported.write_text(text.replace(f'{victim["id"]},{victim["created_at"]}',
                                     f'{victim["id"]},{victim["created_at"].replace(":", ";", 1)}', 1))

    result = run_verifier(exported)

    assert result.returncode == 1
    assert f"FAILED at row 2 (line 12, event #{victim['id']})" in result.stdout
    assert "the row was altered" in result.stdout


def test_the_verifier_notices_a_changed_detail(exported):
    text = exported.read_text()
    exported.write_text(text.replace('"seconds"":12', '"seconds"":13', 1))

    result = run_verifier(exported)

    assert result.returncode == 1 and "FAILED at row 4" in result.stdout


def test_the_verifier_names_the_row_after_a_removed_one(exported):
    text = exported.read_text()
    rows = body_rows(text)
    lines = text.splitlines(keepends=True)
    removed = next(index for index, line in enumerate(lines) if line.startswith(f'{rows[1]["id"]},'))
    exported.write_text("".join(lines[:removed] + lines[removed + 1:]).replace(
        f"# rows: {len(rows)}", f"# rows: {len(rows) - 1}"))

    result = run_verifier(exported)

    assert result.returncode == 1
    assert f"event #{rows[2]['id']}" in result.stdout and f"does not follow event #{rows[0]['id']}" in result.stdout


def test_the_verifier_notices_rows_cut_from_the_end(exported):
    text = exported.read_text()
    rows = body_rows(text)
    lines = text.splitlines(keepends=True)
    last = next(index for index, line in enumerate(lines) if line.startswith(f'{rows[-1]["id"]},'))
    exported.write_text("".join(lines[:last]).replace(f"# rows: {len(rows)}", f"# rows: {len(rows) - 1}"))

    result = run_verifier(exported)

    assert result.returncode == 1 and "not the chain head" in result.stdout


def test_a_filtered_slice_is_verified_row_by_row(client, login, oversight, history, tmp_path):
    login(client, oversight)
    text = export(client, "outcome=allowed")
    path = tmp_path / "slice.csv"
    path.write_text(text)

    result = run_verifier(path)

    assert [int(row["id"]) for row in body_rows(text)] == [history["first"].pk]
    assert "# scope: filtered" in text and "# filters: outcome=allowed" in text
    assert result.returncode == 0 and "each verified individually" in result.stdout
    assert AuditEvent.objects.filter(action="audit.exported").get().details["filters"] == {"outcome": "allowed"}
    path.write_text(text.replace("always", "alwayz"))
    assert run_verifier(path).returncode == 1


def test_an_export_with_bad_filters_is_refused_and_not_audited(client, login, oversight, history):
    login(client, oversight)

    response = client.get("/oversight/export.csv?date_from=tomorrow")

    assert response.status_code == 400
    assert "The export was not made" in response.content.decode()
    assert not AuditEvent.objects.filter(action="audit.exported").exists()


def test_the_verifier_refuses_a_file_that_is_not_an_export(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n")

    result = run_verifier(path)

    assert result.returncode == 1 and "is it an audit export?" in result.stdout


def test_the_verifier_needs_no_django():
    source = VERIFIER.read_text()

    assert "django" not in source.lower().replace("no django", "")
    result = subprocess.run([sys.executable, "-I", "-S", str(VERIFIER)],  # noqa: S603  (our own script)
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "usage:" in result.stderr


def test_an_export_of_a_real_history_verifies(client, login, oversight, live_owner, operator, tmp_path):
    camera = live_camera(live_owner)
    started = live_session_start(camera=camera, viewer=operator, ip_address="198.51.100.4")
    live_session_end(session=started.session, code="stopped")
    area_request(operator, 2000)
    login(client, oversight)
    path = tmp_path / "real.csv"
    path.write_text(export(client))

    result = run_verifier(path)

    assert result.returncode == 0, result.stdout


# --- Who may open the desk ------------------------------------------------------------------

DESK_URLS = ["/oversight/", "/oversight/flags/", "/oversight/flags/refusals/", "/oversight/export.csv"]
ROLES = {"anonymous": 302, "resident": 403, "business": 403, "officer": 403, "operator": 403, "supervisor": 200,
         "oversight": 200}


@pytest.mark.parametrize("url", DESK_URLS)
@pytest.mark.parametrize(("role", "expected"), ROLES.items())
def test_only_oversight_and_supervisors_open_the_desk(client, request, login, url, role, expected):
    if role != "anonymous":
        login(client, request.getfixturevalue(role))

    response = client.get(url)

    assert response.status_code == expected
    if role == "anonymous":
        assert response["Location"].startswith("/accounts/login/?next=/oversight/")
    if expected == 403:
        assert not AuditEvent.objects.filter(action="audit.exported").exists()


@pytest.mark.parametrize(("role", "linked"), [("oversight", True), ("supervisor", True), ("officer", False),
                                              ("operator", False)])
def test_the_desk_is_linked_from_the_staff_home_for_those_who_may_read_it(client, request, login, role, linked):
    login(client, request.getfixturevalue(role))

    page = client.get("/staff/").content.decode()

    assert ('href="/oversight/"' in page) is linked


# --- Shift hours on staff accounts ----------------------------------------------------------

def admin_form(user, **changes):
    from django.forms.models import model_to_dict

    data = {**model_to_dict(user), "password": user.password, "groups": [g.pk for g in user.groups.all()],
            "user_permissions": [], "date_joined_0": "2026-01-01", "date_joined_1": "00:00", **changes}
    data = {key: ("" if value is None else value) for key, value in data.items()}
    return UserChangeAdminForm(data=data, instance=user)


def test_supervisors_set_shift_hours_in_the_user_admin(client, login, supervisor, officer):
    login(client, supervisor)

    page = client.get(f"/admin/portal/user/{officer.pk}/change/").content.decode()

    assert 'name="shift_start"' in page and 'name="shift_end"' in page
    form = admin_form(officer, shift_start="22:00", shift_end="06:00")
    assert form.is_valid(), form.errors
    form.save()
    officer.refresh_from_db()
    assert (officer.shift_start, officer.shift_end) == (time(22), time(6))


@pytest.mark.parametrize(("start", "end", "message"), [
    ("08:00", "", "Set both the start and the end of the shift, or neither."),
    ("08:00", "08:00", "A shift cannot start and end at the same time"),
])
def test_half_a_shift_or_an_empty_one_is_refused(officer, start, end, message):
    form = admin_form(officer, shift_start=start, shift_end=end)

    assert not form.is_valid()
    assert message in " ".join(form.non_field_errors())
