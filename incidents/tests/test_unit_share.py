"""/ws/units/me/ (officers share their phone's position) and the events the RTCC feed receives."""

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from incidents.consumers import UnitShareConsumer
from incidents.models import Incident, UnitPosition
from incidents.tests.conftest import bearer
from incidents.tests.test_consumers import connect, session_cookie_for
from portal.asgi import application

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest.fixture(autouse=True)
def _hosts(settings):
    settings.ALLOWED_HOSTS = ["localhost", "testserver"]


@pytest.fixture
def fast_shares(monkeypatch):
    """No 2-second spacing, for tests that send several positions."""
    monkeypatch.setattr(UnitShareConsumer, "MIN_INTERVAL", 0)


def location(**overrides):
    return {"type": "location", "latitude": 40.71, "longitude": -74.0, "accuracy": 8, "heading": 45, **overrides}


@pytest.mark.parametrize(("role", "allowed"), [(None, False), ("resident", False), ("business", False),
                                               ("oversight", False), ("officer", True), ("operator", True),
                                               ("supervisor", True)])
async def test_who_may_share_their_location(request, role, allowed):
    user = await sync_to_async(request.getfixturevalue)(role) if role else None

    communicator, connected = await connect("/ws/units/me/", user)

    assert connected is allowed
    await communicator.disconnect()


async def test_refusals_use_close_code_4403(resident):
    headers = [(b"origin", b"http://localhost"), (b"cookie", (await session_cookie_for(resident)).encode())]
    communicator = WebsocketCommunicator(application, "/ws/units/me/", headers=headers)

    assert await communicator.connect() == (False, 4403)
    await communicator.disconnect()  # the consumer ends within the test, not when its loop is torn down


async def test_staff_who_have_not_passed_mfa_cannot_share(officer):
    communicator, connected = await connect("/ws/units/me/", officer, mfa=False)

    assert connected is False
    await communicator.disconnect()


async def test_a_position_is_saved_as_the_officers_unit(officer):
    phone, _ok = await connect("/ws/units/me/", officer)

    await phone.send_json_to(location())
    reply = await phone.receive_json_from(timeout=2)

    assert reply["type"] == "location_saved"
    unit = await UnitPosition.objects.select_related("officer").aget()
    assert (unit.call_sign, unit.officer, unit.source) == (officer.badge_number, officer, "phone")
    assert (unit.latitude, unit.longitude, unit.accuracy_m, unit.heading) == (40.71, -74.0, 8, 45)
    assert reply["updated_at"] == unit.updated_at.isoformat()
    await phone.disconnect()


async def test_positions_closer_than_two_seconds_are_dropped(officer):
    phone, _ok = await connect("/ws/units/me/", officer)

    await phone.send_json_to(location(latitude=40.71))
    assert (await phone.receive_json_from(timeout=2))["type"] == "location_saved"
    await phone.send_json_to(location(latitude=40.72))

    assert await phone.receive_nothing(timeout=0.3)
    assert (await UnitPosition.objects.aget()).latitude == 40.71
    await phone.disconnect()


@pytest.mark.parametrize("message", [
    location(latitude=91), location(longitude="west"), location(latitude=None), location(heading=400),
    location(accuracy=-5), location(latitude=True), {"type": "hello"}, ["location"],
])
async def test_bad_values_get_an_error_and_write_nothing(officer, fast_shares, message):
    phone, _ok = await connect("/ws/units/me/", officer)

    await phone.send_json_to(message)
    reply = await phone.receive_json_from(timeout=2)

    assert reply["type"] == "error" and reply["message"]
    assert await UnitPosition.objects.acount() == 0
    await phone.disconnect()


async def test_text_that_is_not_json_gets_an_error(officer):
    phone, _ok = await connect("/ws/units/me/", officer)

    await phone.send_to(text_data="not json")

    assert (await phone.receive_json_from(timeout=2))["type"] == "error"
    await phone.disconnect()


async def test_an_officer_without_a_badge_number_is_told_why(officer):
    officer.badge_number = ""
    await officer.asave(update_fields=["badge_number"])
    phone, _ok = await connect("/ws/units/me/", officer)

    await phone.send_json_to(location())

    assert "badge" in (await phone.receive_json_from(timeout=2))["message"]
    await phone.disconnect()


async def test_closing_the_socket_stops_sharing(officer, operator):
    phone, _ok = await connect("/ws/units/me/", officer)
    await phone.send_json_to(location())
    await phone.receive_json_from(timeout=2)
    assert await UnitPosition.objects.active().acount() == 1
    feed, _ok = await connect("/ws/feed/", operator)

    await phone.disconnect()

    event = await feed.receive_json_from(timeout=2)
    assert (event["kind"], event["unit"]) == ("unit_stopped", officer.badge_number)
    assert await UnitPosition.objects.active().acount() == 0
    await feed.disconnect()


async def test_the_feed_sees_units_move(officer, operator, fast_shares):
    feed, _ok = await connect("/ws/feed/", operator)
    phone, _ok = await connect("/ws/units/me/", officer)

    await phone.send_json_to(location(heading=None))
    await phone.receive_json_from(timeout=2)

    event = await feed.receive_json_from(timeout=2)
    unit = await UnitPosition.objects.aget()
    assert event == {"kind": "unit_moved", "unit": officer.badge_number, "latitude": 40.71, "longitude": -74.0,
                     "heading": None, "source": "phone", "updated_at": unit.updated_at.isoformat(),
                     "officer": officer.display_name}
    await phone.disconnect()
    await feed.disconnect()


async def test_the_feed_sees_avl_positions(operator, avl_key):
    feed, _ok = await connect("/ws/feed/", operator)

    response = await sync_to_async(Client().post)(
        "/api/v1/units/locations/", {"locations": [{"unit": "A12", "latitude": 40.7, "longitude": -74.0,
                                                    "heading": 180}]},
        content_type="application/json", **bearer(avl_key[1]))

    assert response.status_code == 200
    event = await feed.receive_json_from(timeout=2)
    assert (event["kind"], event["unit"], event["heading"], event["source"], event["officer"]) == (
        "unit_moved", "A12", 180, "avl", "")
    await feed.disconnect()


async def test_a_cad_event_reaches_the_rtcc_feed(operator, cad_key):
    feed, _ok = await connect("/ws/feed/", operator)

    response = await sync_to_async(Client().post)(
        "/api/v1/cad/events/", {"external_id": "911-7", "event_type": "Shots fired", "priority": "emergency",
                                "latitude": 40.7, "longitude": -74.0, "address": "5 Elm St"},
        content_type="application/json", **bearer(cad_key[1]))

    assert response.status_code == 201
    event = await feed.receive_json_from(timeout=2)
    incident = await Incident.objects.aget()
    assert (event["kind"], event["incident"], event["reference"]) == ("incident_opened", incident.pk,
                                                                      incident.reference)
    assert (event["incident_type"], event["emergency"], event["source"], event["live_kind"]) == (
        "shooting", True, "cad", "911")
    await feed.disconnect()
