"""Every camera URL × every role, for a camera owned by `business`: only its owner gets in."""

import pytest

from cameras.services import stream_source_set
from cameras.tests.factories import CameraFactory

ROLES = ["anonymous", "resident", "business", "officer", "operator", "supervisor", "oversight"]

# The camera belongs to `business`; `resident` is another owner. Staff are sent to their own home (302).
#                              anon  res  bus  off  opr  sup  ovs
GET_TABLE = {
    "/cameras/{pk}/edit/":        [302, 404, 200, 302, 302, 302, 302],
    "/cameras/{pk}/rules/":       [302, 404, 200, 302, 302, 302, 302],
    "/cameras/{pk}/stream/":      [302, 404, 200, 302, 302, 302, 302],
    "/cameras/{pk}/delete/":      [302, 404, 200, 302, 302, 302, 302],
    "/cameras/{pk}/stream/test/": [302, 405, 405, 302, 302, 302, 302],
    "/api/v1/me/cameras/{pk}/":   [403, 404, 200, 403, 403, 403, 403],
    "/admin/cameras/camera/{pk}/change/": [302, 302, 302, 200, 200, 200, 403],
}

# Writes: each role tries to change or remove the camera. Only the owner's write succeeds.
POST_TABLE = {
    "/cameras/{pk}/edit/":   [302, 404, 200, 302, 302, 302, 302],
    "/cameras/{pk}/rules/":  [302, 404, 200, 302, 302, 302, 302],
    "/cameras/{pk}/delete/": [302, 404, 302, 302, 302, 302, 302],
}
API_WRITES = {"patch": [403, 404, 200, 403, 403, 403, 403], "delete": [403, 404, 204, 403, 403, 403, 403]}


@pytest.fixture
def camera(business):
    camera = CameraFactory(owner=business, access_level="integrated")
    stream_source_set(camera=camera, actor=business, kind="snapshot", url="http://cam.example.net/snap.jpg")
    return camera


def as_role(client, request, login, role):
    if role != "anonymous":
        login(client, request.getfixturevalue(role))


def cases(table):
    return [(url, role, statuses[i]) for url, statuses in table.items() for i, role in enumerate(ROLES)]


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "role", "expected"), cases(GET_TABLE))
def test_get(client, request, login, camera, url, role, expected):
    as_role(client, request, login, role)

    assert client.get(url.format(pk=camera.pk)).status_code == expected


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "role", "expected"), cases(POST_TABLE))
def test_post_changes_nothing_unless_owner(client, request, login, camera, url, role, expected):
    as_role(client, request, login, role)
    name = camera.name

    response = client.post(url.format(pk=camera.pk), {"name": "Changed"})

    assert response.status_code == expected
    if role != "business":
        camera.refresh_from_db()
        assert camera.name == name


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "role", "expected"),
                         [(m, role, statuses[i]) for m, statuses in API_WRITES.items() for i, role in enumerate(ROLES)])
def test_api_writes(client, request, login, camera, method, role, expected):
    as_role(client, request, login, role)

    response = getattr(client, method)(f"/api/v1/me/cameras/{camera.pk}/", {"name": "Changed"},
                                       content_type="application/json")

    assert response.status_code == expected
    if role != "business":
        camera.refresh_from_db()
        assert camera.name != "Changed"


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_pause_affects_only_the_callers_own_cameras(client, request, login, camera, role):
    as_role(client, request, login, role)

    response = client.post("/cameras/pause/", {"action": "pause_now"})

    assert response.status_code == 302
    camera.rules.refresh_from_db()
    assert (camera.rules.paused_until is not None) is (role == "business")
