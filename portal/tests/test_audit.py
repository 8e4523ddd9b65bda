import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from cameras.models import Camera
from cameras.services import live_access_check
from cameras.tests.factories import CameraFactory
from portal.audit import GENESIS_HASH, audit_record, audit_verify
from portal.models import AuditEvent
from portal.tests.factories import sign_waiver

pytestmark = pytest.mark.django_db


def record_three(actor):
    return [audit_record(action=f"test.{n}", actor=actor, details={"n": n}, ip_address="2001:db8::0:1")
            for n in range(3)]


def test_each_event_links_to_the_one_before(operator):
    first, second, third = record_three(operator)

    assert first.previous_hash == GENESIS_HASH
    assert (second.previous_hash, third.previous_hash) == (first.hash, second.hash)
    assert audit_verify().ok and audit_verify().checked == 3


def test_an_edited_event_is_detected(operator):
    _first, second, _third = record_three(operator)
    AuditEvent.objects.filter(pk=second.pk).update(outcome="allowed")

    report = audit_verify()

    assert (report.ok, report.broken_at) == (False, second.pk)
    assert "edited" in report.reason


def test_a_deleted_event_is_detected_at_the_next_one(operator):
    _first, second, third = record_three(operator)
    AuditEvent.objects.filter(pk=second.pk).delete()

    report = audit_verify()

    assert (report.ok, report.broken_at) == (False, third.pk)


def test_rewriting_an_event_and_its_hash_breaks_the_following_link(operator):
    _first, second, third = record_three(operator)
    forged = AuditEvent.objects.get(pk=second.pk)
    forged.details = {"n": "forged"}
    AuditEvent.objects.filter(pk=second.pk).update(details=forged.details, hash=forged.compute_hash())

    assert audit_verify().broken_at == third.pk


def test_verify_audit_reports_the_first_broken_link(operator):
    events = record_three(operator)
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert "3 events verified" in out.getvalue()

    AuditEvent.objects.filter(pk=events[1].pk).update(actor_label="Someone else")
    with pytest.raises(CommandError, match=f"broken at event #{events[1].pk}"):
        call_command("verify_audit")


def test_the_admin_never_adds_changes_or_deletes_events(client, supervisor, login):
    event = audit_record(action="test.admin", actor=supervisor)
    supervisor.is_superuser = True
    supervisor.save()
    login(client, supervisor)

    assert client.get(reverse("admin:portal_auditevent_changelist")).status_code == 200
    assert client.get(reverse("admin:portal_auditevent_add")).status_code == 403
    assert client.post(reverse("admin:portal_auditevent_change", args=[event.pk]),
                       {"action": "changed"}).status_code == 403
    assert client.post(reverse("admin:portal_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.get(pk=event.pk).action == "test.admin"


@pytest.mark.parametrize(("role", "status"), [("supervisor", 200), ("oversight", 200), ("operator", 403),
                                              ("officer", 403)])
def test_reading_the_audit_log_in_the_admin_needs_the_permission(client, request, login, role, status):
    login(client, request.getfixturevalue(role))

    assert client.get(reverse("admin:portal_auditevent_changelist")).status_code == status


def test_every_live_access_decision_is_recorded(business, operator, oversight, waivers):
    sign_waiver(business)
    camera = CameraFactory(owner=business, access_level=Camera.AccessLevel.INTEGRATED,
                           rules={"live_mode": "always"})

    live_access_check(camera=camera, viewer=operator, ip_address="192.0.2.10")
    live_access_check(camera=camera, viewer=oversight)

    allowed, denied = AuditEvent.objects.filter(action="live.access").order_by("id")
    assert (allowed.outcome, allowed.actor, allowed.camera_owner, allowed.ip_address) == (
        "allowed", operator, business, "192.0.2.10")
    assert (denied.outcome, denied.details["code"]) == ("denied", "no_permission")
    assert audit_verify().ok


def test_the_owner_reads_who_accessed_their_cameras(client, business, other_owner, operator, waivers, login):
    sign_waiver(business)
    camera = CameraFactory(owner=business, name="Shop door", access_level=Camera.AccessLevel.INTEGRATED,
                           rules={"live_mode": "never"})
    operator.full_name, operator.badge_number = "Dana Reyes", "4411"
    operator.save()
    live_access_check(camera=camera, viewer=operator)
    login(client, business)

    page = client.get(reverse("portal:access_log")).content.decode()

    assert "Dana Reyes (#4411)" in page
    assert operator.email not in page
    assert "Shop door" in page and "Live view" in page and "Denied" in page
    assert "The owner does not allow live viewing." in page
    client.logout()
    login(client, other_owner)
    assert "Dana Reyes" not in client.get(reverse("portal:access_log")).content.decode()


def test_the_owner_reads_how_far_an_event_was_from_a_camera_it_did_not_open(client, business, operator, waivers,
                                                                             login):
    from cameras.geo import destination_point
    from incidents.models import Incident
    from requests_app.tests.factories import IncidentFactory

    sign_waiver(business)
    camera = CameraFactory(owner=business, name="Shop door", access_level=Camera.AccessLevel.INTEGRATED,
                           rules={"live_mode": "incident", "incident_radius_m": 200, "incident_minutes": 60})
    latitude, longitude = destination_point(camera.latitude, camera.longitude, 0.0, 239)
    alarm = IncidentFactory(source=Incident.Source.ALARM, external_id="A-7", latitude=latitude, longitude=longitude)

    decision = live_access_check(camera=camera, viewer=operator, at=alarm.window_start, incident=alarm)
    login(client, business)

    event = AuditEvent.objects.get(action="live.access")
    assert event.details["figures"] == {"radius_m": 200, "distance_m": 239} == decision.figures
    assert ("The owner allows live viewing during an alarm or 911 event within 200 m; the active event is 239 m "
            "away.") in client.get(reverse("portal:access_log")).content.decode()
    assert audit_verify().ok


def test_the_log_keeps_access_to_a_camera_the_owner_removed(client, business, operator, waivers, login):
    sign_waiver(business)
    camera = CameraFactory(owner=business, access_level=Camera.AccessLevel.INTEGRATED)
    live_access_check(camera=camera, viewer=operator)
    camera.delete()
    login(client, business)

    page = client.get(reverse("portal:access_log")).content.decode()

    assert "a removed camera" in page
    assert audit_verify().ok
