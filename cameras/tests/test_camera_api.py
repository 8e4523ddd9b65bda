import pytest

from cameras.geo import approximate_location, haversine_m
from cameras.models import Camera
from cameras.tests.factories import CameraFactory
from portal.models import AuditEvent
from portal.tests.factories import sign_waiver

pytestmark = pytest.mark.django_db

NEW_CAMERA = {"name": "Loading dock", "latitude": 40.7, "longitude": -74.0, "address": "5 Mill Rd",
              "site_kind": "business", "coverage": ["parking"], "access_level": "integrated",
              "rules": {"live_mode": "schedule", "schedule": [{"days": [5, 6], "start": "20:00", "end": "06:00"}],
                        "accept_requests": True, "location_precision": "approximate"},
              "stream": {"kind": "mjpeg", "url": "http://cam.example.net/video.mjpg", "username": "viewer",
                         "password": "pa55word"}}


def test_an_owner_creates_a_camera_with_rules_and_a_stream(client, business, waivers, login):
    sign_waiver(business)
    login(client, business)

    response = client.post("/api/v1/me/cameras/", NEW_CAMERA, content_type="application/json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["rules"]["schedule"] == [{"days": [5, 6], "start": "20:00", "end": "06:00"}]
    assert body["rules"]["summary"][0] == "Live access: weekends 20:00–06:00"
    assert body["stream"] == {"kind": "mjpeg", "last_test_ok": None}
    camera = Camera.objects.get(pk=body["id"])
    assert camera.owner == business and camera.stream.kind == "mjpeg"


def test_creating_needs_the_current_waiver(client, business, waivers, login):
    login(client, business)

    response = client.post("/api/v1/me/cameras/", NEW_CAMERA, content_type="application/json")

    assert response.status_code == 403
    assert not Camera.objects.exists()


def test_invalid_rules_are_refused_and_nothing_is_created(client, resident, waivers, login):
    sign_waiver(resident)
    login(client, resident)
    registered_live = {**NEW_CAMERA, "access_level": "registered", "stream": None,
                       "rules": {"live_mode": "always"}}
    registered_live.pop("stream")

    response = client.post("/api/v1/me/cameras/", registered_live, content_type="application/json")

    assert response.status_code == 400
    assert "live_mode" in response.json()
    assert not Camera.objects.exists()


def test_owners_list_update_and_delete_only_their_own_cameras(client, resident, other_owner, login):
    mine = CameraFactory(owner=resident, name="Mine")
    theirs = CameraFactory(owner=other_owner, name="Theirs")
    login(client, resident)

    listed = client.get("/api/v1/me/cameras/").json()["results"]
    assert [camera["name"] for camera in listed] == ["Mine"]
    assert client.get(f"/api/v1/me/cameras/{theirs.pk}/").status_code == 404
    assert client.patch(f"/api/v1/me/cameras/{theirs.pk}/", {"name": "Hacked"},
                        content_type="application/json").status_code == 404
    assert client.delete(f"/api/v1/me/cameras/{theirs.pk}/").status_code == 404
    assert Camera.objects.get(pk=theirs.pk).name == "Theirs"

    assert client.patch(f"/api/v1/me/cameras/{mine.pk}/", {"name": "Porch", "rules": {"accept_requests": False}},
                        content_type="application/json").status_code == 200
    mine.refresh_from_db()
    assert (mine.name, mine.rules.accept_requests) == ("Porch", False)
    assert client.delete(f"/api/v1/me/cameras/{mine.pk}/").status_code == 204
    assert not Camera.objects.filter(pk=mine.pk).exists()


def test_a_camera_registered_with_only_the_required_fields_takes_the_private_defaults(client, resident, login):
    login(client, resident)

    response = client.post("/api/v1/me/cameras/", {"name": "Porch", "latitude": 40.7, "longitude": -74.0,
                                                   "address": "5 Mill Rd"}, content_type="application/json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["site_kind"], body["coverage"], body["access_level"]) == ("home", [], "registered")
    assert body["stream"] is None  # no stream source: the schema says the field is nullable


@pytest.mark.parametrize("paused_until", ["0459-05-19T14:04:24Z", "1999-12-31T23:59:59Z"])
def test_a_pause_ending_before_2000_is_refused(client, resident, login, paused_until):
    camera = CameraFactory(owner=resident)
    login(client, resident)

    response = client.patch(f"/api/v1/me/cameras/{camera.pk}/", {"rules": {"paused_until": paused_until}},
                            content_type="application/json")

    assert response.status_code == 400
    assert "paused_until" in response.json()
    camera.rules.refresh_from_db()
    assert camera.rules.paused_until is None


@pytest.mark.parametrize(("camera_lat", "search_lat"), [(0.0, -2.3385517451427436e-192), (1e-200, 0.0)])
def test_searching_at_a_vanishingly_small_latitude_works_on_every_database(client, operator, login, camera_lat,
                                                                            search_lat):
    CameraFactory(latitude=camera_lat, longitude=0.0)
    login(client, operator)

    response = client.get("/api/v1/cameras/", {"lat": search_lat, "lng": 0.0, "radius_m": 0.0})

    assert response.status_code == 200  # PostgreSQL refused the float underflow with a 500
    assert len(response.json()) == 1


def test_an_unknown_api_address_answers_404_in_json(client, resident, login):
    login(client, resident)

    response = client.get("/api/v1/me/cameras/0.5/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    assert "text/html" in client.get("/no-such-page/")["Content-Type"]


@pytest.mark.parametrize("role", ["officer", "operator", "supervisor", "oversight"])
def test_staff_have_no_cameras_of_their_own_to_manage(client, request, login, role):
    login(client, request.getfixturevalue(role))

    assert client.get("/api/v1/me/cameras/").status_code == 403


# --- Staff search -------------------------------------------------------------------------------

@pytest.fixture
def street(resident, business, waivers):
    """Three cameras on a street: exact, approximate, and one whose owner has not signed."""
    sign_waiver(business)
    exact = CameraFactory(owner=business, name="Shop", latitude=40.7000, longitude=-74.0000,
                          access_level="integrated")
    hidden = CameraFactory(owner=business, name="Yard", latitude=40.7020, longitude=-74.0010,
                           rules={"location_precision": "approximate"})
    unsigned = CameraFactory(owner=resident, name="Porch", latitude=40.7010, longitude=-74.0005)
    far = CameraFactory(owner=business, name="Far", latitude=40.8, longitude=-74.0)
    return {"exact": exact, "approximate": hidden, "unsigned": unsigned, "far": far}


@pytest.mark.parametrize(("role", "status"), [("anonymous", 403), ("resident", 403), ("business", 403),
                                              ("oversight", 403), ("officer", 200), ("operator", 200),
                                              ("supervisor", 200)])
def test_camera_search_is_for_staff_who_may_find_cameras(client, request, login, role, status):
    if role != "anonymous":
        login(client, request.getfixturevalue(role))

    response = client.get("/api/v1/cameras/", {"lat": 40.7, "lng": -74.0, "radius_m": 500})

    assert response.status_code == status


def test_search_returns_cameras_in_the_circle_nearest_first_and_is_audited(client, operator, street, login):
    login(client, operator)

    results = client.get("/api/v1/cameras/", {"lat": 40.7, "lng": -74.0, "radius_m": 500}).json()

    assert [camera["name"] for camera in results] == ["Shop", "Porch", "Yard"]
    assert results[0]["distance_m"] == 0.0
    unsigned = results[1]
    assert (unsigned["available_for_requests"], unsigned["unavailable_reason"]) == (
        False, "The owner has not signed the current program agreement.")
    event = AuditEvent.objects.get(action="camera.search")
    assert (event.actor, event.details["found"]) == (operator, 3)


def test_approximate_cameras_are_shown_and_measured_at_their_grid_cell(client, operator, street, login):
    login(client, operator)
    camera = street["approximate"]

    results = client.get("/api/v1/cameras/", {"lat": 40.7, "lng": -74.0, "radius_m": 500}).json()

    shown = next(result for result in results if result["id"] == camera.pk)
    assert (shown["latitude"], shown["longitude"]) == approximate_location(camera.latitude, camera.longitude)
    assert (shown["latitude"], shown["longitude"]) != (camera.latitude, camera.longitude)
    assert shown["distance_m"] == round(haversine_m(40.7, -74.0, shown["latitude"], shown["longitude"]), 1)
    assert haversine_m(camera.latitude, camera.longitude, shown["latitude"], shown["longitude"]) < 110


def test_tiny_circles_cannot_pin_down_an_approximate_camera(client, operator, street, login):
    login(client, operator)
    camera = street["approximate"]

    results = client.get("/api/v1/cameras/", {"lat": camera.latitude, "lng": camera.longitude, "radius_m": 1}).json()

    assert camera.pk not in [result["id"] for result in results]


@pytest.mark.parametrize(("params", "field"), [
    ({"lat": 40.7, "lng": -74.0}, "radius_m"),
    ({"lat": 91, "lng": -74.0, "radius_m": 10}, "lat"),
    ({"lat": "north", "lng": -74.0, "radius_m": 10}, "lat"),
    ({"lat": 40.7, "lng": -74.0, "radius_m": 100_000}, "radius_m"),
    ({"lat": 40.7, "lng": -74.0, "radius_m": -1}, "radius_m"),
])
def test_bad_search_parameters_get_a_clear_400(client, operator, login, params, field):
    login(client, operator)

    response = client.get("/api/v1/cameras/", params)

    assert response.status_code == 400
    assert field in response.json()


def test_cameras_of_unverified_or_closed_accounts_never_appear(client, operator, other_owner, login):
    from allauth.account.models import EmailAddress

    CameraFactory(owner=other_owner, latitude=40.7, longitude=-74.0)
    EmailAddress.objects.filter(user=other_owner).update(verified=False)
    login(client, operator)

    assert client.get("/api/v1/cameras/", {"lat": 40.7, "lng": -74.0, "radius_m": 100}).json() == []


def test_the_schema_documents_the_camera_endpoints(client):
    paths = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]

    assert {"/api/v1/me/cameras/", "/api/v1/me/cameras/{id}/", "/api/v1/cameras/"} <= set(paths)
