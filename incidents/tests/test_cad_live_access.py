"""Alarm- and 911-triggered live access, with incidents opened through the CAD endpoint.

A camera whose owner allows live viewing "during an alarm or 911 event within N metres, for M
minutes" is open to staff inside the radius during that period, and closed outside it, before
the event and after the period.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from cameras.models import Camera, SharingRules
from cameras.policy import evaluate_live_access
from cameras.tests.factories import CameraFactory
from incidents.models import Incident
from incidents.tests.conftest import bearer
from portal.tests.factories import sign_waiver

pytestmark = pytest.mark.django_db

LAT, LNG = 40.7128, -74.0060
RADIUS_M, MINUTES = 200, 30
METRES_PER_DEGREE = 111_195


@pytest.fixture
def camera(business, waivers):
    sign_waiver(business)
    created = CameraFactory(owner=business, access_level=Camera.AccessLevel.INTEGRATED, latitude=LAT, longitude=LNG,
                            rules={"live_mode": SharingRules.LiveMode.INCIDENT, "incident_radius_m": RADIUS_M,
                                   "incident_minutes": MINUTES})
    return Camera.objects.with_policy_facts().get(pk=created.pk)


@pytest.fixture
def occurred():
    return timezone.now().replace(microsecond=0) - timedelta(hours=2)


def post_event(client, raw_key, *, event_type, metres_north, occurred_at, external_id="E-1"):
    response = client.post("/api/v1/cad/events/", {
        "external_id": external_id, "event_type": event_type, "occurred_at": occurred_at.isoformat(),
        "latitude": LAT + metres_north / METRES_PER_DEGREE, "longitude": LNG,
    }, content_type="application/json", **bearer(raw_key))
    assert response.status_code in (200, 201), response.content
    return Incident.objects.get(pk=response.json()["id"])


TABLE = [
    # (description, key, event type, metres from the camera, minutes after the event, allowed, code)
    ("alarm inside the radius during the period", "alarm_key", "Burglar alarm", 150, 10, True, "incident_nearby"),
    ("911 call inside the radius", "cad_key", "Shots fired", 150, 10, True, "incident_nearby"),
    ("any 911 call counts, whatever its type", "cad_key", "Burglary", 150, 10, True, "incident_nearby"),
    ("an alarm at the camera itself", "alarm_key", "Panic alarm", 0, 0, True, "incident_nearby"),
    ("just inside the radius", "alarm_key", "alarm", RADIUS_M - 2, 10, True, "incident_nearby"),
    ("just before the period ends", "alarm_key", "alarm", 150, MINUTES - 1, True, "incident_nearby"),
    ("outside the radius", "alarm_key", "alarm", RADIUS_M + 50, 10, False, "incident_out_of_range"),
    ("911 call outside the radius", "cad_key", "Robbery", 400, 10, False, "incident_out_of_range"),
    ("before the event", "alarm_key", "alarm", 150, -1, False, "no_qualifying_incident"),
    ("when the period ends", "alarm_key", "alarm", 150, MINUTES, False, "no_qualifying_incident"),
    ("after the period", "cad_key", "Shots fired", 150, MINUTES + 30, False, "no_qualifying_incident"),
]


@pytest.mark.parametrize(("description", "key", "event_type", "metres", "minutes", "allowed", "code"), TABLE,
                         ids=[row[0] for row in TABLE])
def test_alarm_triggered_access(request, client, operator, camera, occurred, description, key, event_type, metres,
                                minutes, allowed, code):
    raw_key = request.getfixturevalue(key)[1]
    incident = post_event(client, raw_key, event_type=event_type, metres_north=metres, occurred_at=occurred)

    decision = evaluate_live_access(camera, operator, occurred + timedelta(minutes=minutes), incident)

    assert (decision.allowed, decision.code) == (allowed, code)


def test_an_officer_is_allowed_and_oversight_refused(client, officer, oversight, camera, occurred, alarm_key):
    incident = post_event(client, alarm_key[1], event_type="alarm", metres_north=50, occurred_at=occurred)
    at = occurred + timedelta(minutes=5)

    assert evaluate_live_access(camera, officer, at, incident).allowed
    assert evaluate_live_access(camera, oversight, at, incident).code == "no_permission"


def test_a_staff_incident_of_the_same_type_opens_nothing(operator, camera, occurred):
    from incidents.services import incident_create

    incident = incident_create(created_by=operator, incident_type="burglary", latitude=LAT, longitude=LNG,
                               window_start=occurred, window_end=occurred + timedelta(hours=1))

    decision = evaluate_live_access(camera, operator, occurred + timedelta(minutes=5), incident)

    assert decision.code == "no_qualifying_incident"


def test_a_later_update_does_not_restart_the_period(client, operator, camera, occurred, alarm_key):
    post_event(client, alarm_key[1], event_type="alarm", metres_north=50, occurred_at=occurred)
    incident = post_event(client, alarm_key[1], event_type="alarm", metres_north=50,
                          occurred_at=occurred + timedelta(minutes=40))

    assert incident.occurred_at == occurred
    assert not evaluate_live_access(camera, operator, occurred + timedelta(minutes=45), incident).allowed


def test_dispatch_closing_the_call_ends_the_access_it_opened(client, operator, camera, occurred, alarm_key):
    incident = post_event(client, alarm_key[1], event_type="alarm", metres_north=50, occurred_at=occurred)
    at = occurred + timedelta(minutes=5)
    assert evaluate_live_access(camera, operator, at, incident).allowed

    response = client.post("/api/v1/cad/events/", {"external_id": "E-1", "status": "closed", "event_type": "alarm",
                                                    "latitude": LAT, "longitude": LNG},
                           content_type="application/json", **bearer(alarm_key[1]))
    assert response.status_code == 200, response.content
    incident.refresh_from_db()

    assert (incident.status, evaluate_live_access(camera, operator, at, incident).code) == (
        "closed", "no_qualifying_incident")
