"""POST /api/v1/cad/events/: dispatch and alarm systems open and update incidents."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from incidents.models import Incident
from incidents.tests.conftest import bearer
from portal.models import AuditEvent
from portal.tests.factories import StaffFactory

URL = "/api/v1/cad/events/"
pytestmark = pytest.mark.django_db


def event(**overrides):
    return {"external_id": "CAD-2026-0042", "event_type": "Burglary in progress", "priority": 1,
            "latitude": 40.7128, "longitude": -74.0060, "address": "12 Main St",
            "description": "Caller hears glass breaking.", **overrides}


def post(client, raw_key, body):
    return client.post(URL, body, content_type="application/json", **bearer(raw_key))


def test_a_new_event_opens_an_incident(client, cad_key):
    occurred = timezone.now().replace(microsecond=0) - timedelta(minutes=3)

    response = post(client, cad_key[1], event(occurred_at=occurred.isoformat()))

    assert response.status_code == 201
    incident = Incident.objects.get()
    body = response.json()
    assert body == {"id": incident.pk, "reference": incident.reference, "created": True,
                    "url": f"http://testserver/staff/incidents/{incident.pk}/", "unknown_units": []}
    assert (incident.source, incident.external_id, incident.incident_type, incident.priority) == (
        "cad", "CAD-2026-0042", "burglary", 1)
    assert incident.kind == "911"
    assert incident.created_by is None
    assert incident.description == "Burglary in progress\n\nCaller hears glass breaking."
    assert (incident.window_start, incident.window_end) == (occurred, occurred + timedelta(minutes=60))


def test_the_same_external_id_updates_the_same_incident(client, cad_key):
    first = post(client, cad_key[1], event())
    second = post(client, cad_key[1], event(priority="routine", address="14 Main St", status="closed",
                                            event_type="Shots fired"))

    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["created"] is False
    assert second.json()["id"] == first.json()["id"]
    incident = Incident.objects.get()
    assert (incident.priority, incident.address, incident.status, incident.incident_type) == (
        3, "14 Main St", "closed", "shooting")
    assert incident.closed_at is not None


def test_an_update_leaves_out_fields_unchanged_and_extends_the_window(client, cad_key, settings):
    settings.CAD_INCIDENT_WINDOW_MINUTES = 30
    occurred = timezone.now() - timedelta(minutes=50)
    post(client, cad_key[1], event(occurred_at=occurred.isoformat()))

    response = post(client, cad_key[1], {"external_id": "CAD-2026-0042", "event_type": "Burglary",
                                         "latitude": 40.7128, "longitude": -74.0060})

    incident = Incident.objects.get()
    assert response.status_code == 200
    assert (incident.priority, incident.address) == (1, "12 Main St")
    assert incident.window_start == occurred
    assert incident.window_end >= timezone.now() + timedelta(minutes=29)


def test_the_key_name_is_in_the_audit_log(client, cad_key):
    post(client, cad_key[1], event())
    post(client, cad_key[1], event(priority=2))

    created, changed = AuditEvent.objects.filter(action__startswith="incident.").order_by("pk")
    assert (created.action, changed.action) == ("incident.created", "incident.changed")
    assert created.actor is None
    assert created.details["integration_key"] == changed.details["integration_key"] == "County CAD"
    assert created.details["external_id"] == "CAD-2026-0042"


def test_cad_and_alarm_keys_keep_separate_numbering(client, cad_key, alarm_key):
    cad = post(client, cad_key[1], event(external_id="77"))
    alarm = post(client, alarm_key[1], event(external_id="77", event_type="Burglar alarm"))

    assert (cad.status_code, alarm.status_code) == (201, 201)
    assert Incident.objects.get(pk=alarm.json()["id"]).kind == "alarm"
    assert Incident.objects.get(pk=cad.json()["id"]).kind == "911"


def test_units_become_assigned_officers_and_unknown_badges_are_reported(client, cad_key):
    officer = StaffFactory(badge_number="4521")
    StaffFactory(badge_number="9999", is_active=False)

    response = post(client, cad_key[1], event(units=["4521", "7777", "9999"]))

    assert response.status_code == 201
    assert response.json()["unknown_units"] == ["7777", "9999"]
    assert list(Incident.objects.get().assigned_officers.all()) == [officer]


def test_an_update_without_units_keeps_the_assigned_officers(client, cad_key):
    officer = StaffFactory(badge_number="4521")
    post(client, cad_key[1], event(units=["4521"]))

    post(client, cad_key[1], event(priority=3))

    assert list(Incident.objects.get().assigned_officers.all()) == [officer]


@pytest.mark.parametrize(("event_type", "incident_type"), [
    ("burglary", "burglary"), ("ROBBERY", "robbery"), ("Shots Fired", "shooting"), ("alarm", "alarm"),
    ("Burglar Alarm", "alarm"), ("panic-alarm", "alarm"), ("Stolen vehicle", "vehicle_theft"),
    ("Hit & run", "hit_and_run"), ("Suspicious person", "other"), ("10-31", "other"),
])
def test_event_types_map_to_incident_types(client, cad_key, event_type, incident_type):
    post(client, cad_key[1], event(event_type=event_type))

    incident = Incident.objects.get()
    assert incident.incident_type == incident_type
    assert incident.description.startswith(event_type)


@pytest.mark.parametrize(("priority", "stored"), [(1, 1), ("2", 2), (3, 3), ("Emergency", 1), ("urgent", 2),
                                                  ("routine", 3)])
def test_priorities_as_numbers_or_words(client, cad_key, priority, stored):
    assert post(client, cad_key[1], event(priority=priority)).status_code == 201
    assert Incident.objects.get().priority == stored


INVALID = [
    ({"external_id": ""}, "external_id"),
    ({"external_id": None}, "external_id"),
    ({"event_type": ""}, "event_type"),
    ({"priority": 4}, "priority"),
    ({"priority": "high"}, "priority"),
    ({"latitude": 91}, "latitude"),
    ({"longitude": -181}, "longitude"),
    ({"latitude": "north"}, "latitude"),
    ({"occurred_at": "2026-11-22T10:00:00"}, "occurred_at"),
    ({"occurred_at": "yesterday"}, "occurred_at"),
    ({"status": "pending"}, "status"),
    ({"units": "4521"}, "units"),
]


@pytest.mark.parametrize(("overrides", "field"), INVALID, ids=[f"{field}={o[field]!r}" for o, field in INVALID])
def test_invalid_fields_are_refused_and_nothing_is_written(client, cad_key, overrides, field):
    audit_before = AuditEvent.objects.count()

    response = post(client, cad_key[1], event(**overrides))

    assert response.status_code == 400
    assert field in response.json()
    assert Incident.objects.count() == 0
    assert AuditEvent.objects.count() == audit_before


def test_a_missing_location_is_named(client, cad_key):
    body = event()
    del body["latitude"], body["longitude"]

    response = post(client, cad_key[1], body)

    assert response.status_code == 400
    assert set(response.json()) == {"latitude", "longitude"}


def test_events_far_in_the_future_are_refused_but_small_clock_drift_is_not(client, cad_key):
    soon = timezone.now() + timedelta(minutes=2)
    late = timezone.now() + timedelta(minutes=10)

    assert post(client, cad_key[1], event(external_id="a", occurred_at=late.isoformat())).status_code == 400
    assert post(client, cad_key[1], event(external_id="b", occurred_at=soon.isoformat())).status_code == 201


def test_an_invalid_update_changes_nothing(client, cad_key):
    post(client, cad_key[1], event())

    response = post(client, cad_key[1], event(latitude=123, address="Elsewhere"))

    assert response.status_code == 400
    assert Incident.objects.get().address == "12 Main St"


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_posts_of_a_new_id_make_one_incident(cad_key):
    # On PostgreSQL both requests can miss the lookup; the unique constraint stops the second
    # insert and the retry turns it into an update. SQLite serialises the two writers.
    barrier, statuses = threading.Barrier(2), []

    def send():
        try:
            barrier.wait()
            statuses.append(post(Client(), cad_key[1], event()).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200, 201]
    assert Incident.objects.count() == 1
