"""POST /api/v1/units/locations/ and the unit positions the RTCC map reads."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.models import UnitPosition
from incidents.tests.conftest import bearer

URL = "/api/v1/units/locations/"
pytestmark = pytest.mark.django_db


def post(client, raw_key, locations):
    return client.post(URL, {"locations": locations}, content_type="application/json", **bearer(raw_key))


def location(unit="A12", minutes_ago=0, **overrides):
    recorded = timezone.now() - timedelta(minutes=minutes_ago)
    return {"unit": unit, "latitude": 40.71, "longitude": -74.0, "heading": 90, "speed": 12.5,
            "recorded_at": recorded.isoformat(), **overrides}


def test_a_batch_stores_each_units_latest_position(client, avl_key):
    response = post(client, avl_key[1], [location("A12", latitude=40.1), location("B7", heading=None)])

    assert response.status_code == 200
    assert response.json() == {"saved": 2, "ignored": 0}
    a12, b7 = UnitPosition.objects.all()
    assert (a12.call_sign, a12.latitude, a12.heading, a12.speed, a12.source) == ("A12", 40.1, 90, 12.5, "avl")
    assert (b7.call_sign, b7.heading) == ("B7", None)


def test_a_newer_position_replaces_the_old_one(client, avl_key):
    post(client, avl_key[1], [location(minutes_ago=2, latitude=40.1)])

    post(client, avl_key[1], [location(minutes_ago=1, latitude=40.2)])

    assert UnitPosition.objects.get().latitude == 40.2


def test_older_positions_arriving_late_are_ignored(client, avl_key):
    post(client, avl_key[1], [location(minutes_ago=1, latitude=40.2)])

    response = post(client, avl_key[1], [location(minutes_ago=3, latitude=40.1)])

    assert response.json() == {"saved": 0, "ignored": 1}
    assert UnitPosition.objects.get().latitude == 40.2


def test_within_a_batch_the_latest_recorded_position_wins_whatever_the_order(client, avl_key):
    post(client, avl_key[1], [location(minutes_ago=1, latitude=40.3), location(minutes_ago=4, latitude=40.1)])

    assert UnitPosition.objects.get().latitude == 40.3


def test_recorded_at_defaults_to_now(client, avl_key):
    body = location()
    del body["recorded_at"]

    post(client, avl_key[1], [body])

    assert timezone.now() - UnitPosition.objects.get().recorded_at < timedelta(seconds=5)


def test_a_batch_of_500_is_accepted_and_501_refused(client, avl_key):
    assert post(client, avl_key[1], [location(f"U{n}") for n in range(500)]).status_code == 200
    assert UnitPosition.objects.count() == 500

    response = post(client, avl_key[1], [location(f"V{n}") for n in range(501)])

    assert response.status_code == 400
    assert UnitPosition.objects.count() == 500


@pytest.mark.parametrize("bad", [
    {"latitude": 95}, {"longitude": "west"}, {"unit": ""}, {"unit": "X" * 33}, {"heading": 361},
    {"speed": -1}, {"recorded_at": "2026-11-22T10:00:00"},
    {"recorded_at": (timezone.now() + timedelta(hours=1)).isoformat()},
])
def test_one_bad_entry_refuses_the_whole_batch(client, avl_key, bad):
    response = post(client, avl_key[1], [location("A1"), {**location("A2"), **bad}])

    assert response.status_code == 400
    errors = response.json()["locations"]  # by position in the batch, bad entries only
    assert list(errors) == ["1"]
    assert set(errors["1"]) == set(bad)
    assert UnitPosition.objects.count() == 0


@pytest.mark.parametrize("body", [{}, {"locations": []}, {"locations": "A12"}])
def test_an_empty_or_malformed_batch_is_refused(client, avl_key, body):
    response = client.post(URL, body, content_type="application/json", **bearer(avl_key[1]))

    assert response.status_code == 400
    assert "locations" in response.json()


def test_active_units_are_the_ones_seen_recently_and_still_sharing(client, avl_key, settings):
    settings.UNIT_STALE_MINUTES = 10
    post(client, avl_key[1], [location("C3"), location("A1"), location("B2"), location("D4")])
    UnitPosition.objects.filter(call_sign="B2").update(updated_at=timezone.now() - timedelta(minutes=11))
    UnitPosition.objects.filter(call_sign="D4").update(stopped_at=timezone.now())

    assert [unit.call_sign for unit in UnitPosition.objects.active()] == ["A1", "C3"]


def test_a_new_position_brings_a_stopped_unit_back(client, avl_key):
    post(client, avl_key[1], [location(minutes_ago=1)])
    UnitPosition.objects.update(stopped_at=timezone.now())

    post(client, avl_key[1], [location()])

    assert UnitPosition.objects.active().count() == 1
