"""Every new endpoint × every caller: people with sessions, and each kind of integration key."""

import pytest
from asgiref.sync import sync_to_async

from incidents.models import Incident, UnitPosition
from incidents.services import integration_key_revoke
from incidents.tests.conftest import bearer
from incidents.tests.test_consumers import connect

PEOPLE = ["anonymous", "resident", "business", "officer", "operator", "supervisor", "oversight"]
KEYS = ["cad_key", "alarm_key", "avl_key", "revoked_key"]

EVENT = {"external_id": "P-1", "event_type": "alarm", "latitude": 40.7, "longitude": -74.0}
LOCATIONS = {"locations": [{"unit": "A12", "latitude": 40.7, "longitude": -74.0}]}
ENDPOINTS = {"/api/v1/cad/events/": EVENT, "/api/v1/units/locations/": LOCATIONS}

# Sessions never authenticate these endpoints (staff who passed MFA included): 401.
#                                   cad  alarm  avl  revoked
KEY_TABLE = {"/api/v1/cad/events/":      [201, 201, 403, 401],
             "/api/v1/units/locations/": [403, 403, 200, 401]}

#                                             anon res  bus  off  opr  sup  ovs
ADMIN_TABLE = {"/admin/incidents/integrationkey/":      [302, 302, 302, 403, 403, 200, 403],
               "/admin/incidents/integrationkey/add/":  [302, 302, 302, 403, 403, 200, 403],
               "/admin/incidents/unitposition/":        [302, 302, 302, 403, 403, 403, 403]}

#                 anon   res    bus    off   opr   sup   ovs
WS_TABLE = [False, False, False, True, True, True, False]


@pytest.fixture
def revoked_key(make_key):
    key, raw_key = make_key("cad", "Old CAD")
    integration_key_revoke(key=key)
    return key, raw_key


def as_person(client, request, login, person):
    if person != "anonymous":
        login(client, request.getfixturevalue(person))


def written():
    return Incident.objects.count() + UnitPosition.objects.count()


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "person"), [(url, person) for url in ENDPOINTS for person in PEOPLE])
def test_sessions_cannot_post(client, request, login, url, person):
    as_person(client, request, login, person)

    response = client.post(url, ENDPOINTS[url], content_type="application/json")

    assert response.status_code == 401
    assert written() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "key", "expected"),
                         [(url, key, statuses[i]) for url, statuses in KEY_TABLE.items() for i, key in enumerate(KEYS)])
def test_keys(client, request, url, key, expected):
    raw_key = request.getfixturevalue(key)[1]

    response = client.post(url, ENDPOINTS[url], content_type="application/json", **bearer(raw_key))

    assert response.status_code == expected
    assert written() == (1 if expected < 300 else 0)


@pytest.mark.django_db
@pytest.mark.parametrize("url", ENDPOINTS)
@pytest.mark.parametrize("key", ["cad_key", "avl_key"])
def test_keys_can_only_post(client, request, url, key):
    raw_key = request.getfixturevalue(key)[1]

    assert client.get(url, **bearer(raw_key)).status_code in (403, 405)


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "person", "expected"),
                         [(url, person, statuses[i]) for url, statuses in ADMIN_TABLE.items()
                          for i, person in enumerate(PEOPLE)])
def test_admin_pages(client, request, login, url, person, expected):
    as_person(client, request, login, person)

    assert client.get(url).status_code == expected


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["cad_key", "avl_key"])
def test_keys_do_not_open_the_admin_or_staff_pages(client, request, key):
    raw_key = request.getfixturevalue(key)[1]

    for url in ["/admin/incidents/integrationkey/", "/staff/incidents/", "/api/v1/cameras/", "/api/v1/me/"]:
        assert client.get(url, **bearer(raw_key)).status_code in (302, 403), url


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.parametrize(("person", "allowed"), list(zip(PEOPLE, WS_TABLE, strict=True)))
async def test_location_sharing_socket(request, settings, person, allowed):
    settings.ALLOWED_HOSTS = ["localhost"]
    user = await sync_to_async(request.getfixturevalue)(person) if person != "anonymous" else None

    communicator, connected = await connect("/ws/units/me/", user)

    assert connected is allowed
    await communicator.disconnect()
