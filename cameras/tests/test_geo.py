"""Great-circle searches: within() and nearest() against brute force, the bounding box, approximate locations.

Everything runs on the real database (SQLite by default, PostgreSQL with DATABASE_URL); the
random data comes from seeded generators, so a failure names the seed that reproduces it.
"""

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cameras.geo import (
    APPROXIMATE_GRID_M,
    EARTH_RADIUS_M,
    approximate_location,
    bounding_box,
    haversine_m,
    latitude_band,
)
from cameras.models import Camera
from cameras.tests.factories import CameraFactory
from portal.tests.factories import OwnerFactory

TIE_M = 1e-6  # cameras this close to the radius may fall either side by rounding
DISTANCE_TOLERANCE_M = 1e-3

CITY = (40.7128, -74.0060)
NEAR_NORTH_POLE = (89.95, 30.0)
ACROSS_ANTIMERIDIAN = (-16.5, 179.995)
NEAR_EQUATOR = (0.002, 32.5)
CLUSTERS = [CITY, NEAR_NORTH_POLE, ACROSS_ANTIMERIDIAN, NEAR_EQUATOR]


# --- Helpers ----------------------------------------------------------------------------------

def destination(lat, lng, bearing_deg, distance_m):
    """The point distance_m from (lat, lng) along bearing_deg, by vectors (stable near poles)."""
    phi, lam = math.radians(lat), math.radians(lng)
    theta, delta = math.radians(bearing_deg), distance_m / EARTH_RADIUS_M
    here = (math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi))
    north = (-math.sin(phi) * math.cos(lam), -math.sin(phi) * math.sin(lam), math.cos(phi))
    east = (-math.sin(lam), math.cos(lam), 0.0)
    x, y, z = (
        math.cos(delta) * h + math.sin(delta) * (math.cos(theta) * n + math.sin(theta) * e)
        for h, n, e in zip(here, north, east, strict=True)
    )
    return math.degrees(math.atan2(z, math.hypot(x, y))), math.degrees(math.atan2(y, x))


def make_cameras(points):
    """Bulk-create one camera per (lat, lng); returns {id: (lat, lng)} as stored."""
    owner = OwnerFactory()
    cameras = []
    for index, (lat, lng) in enumerate(points):
        camera = Camera(owner=owner, name=f"Camera {index}", address=f"{index} Main Street")
        camera.set_location(lat, lng)
        cameras.append(camera)
    Camera.objects.bulk_create(cameras, batch_size=200)
    return {pk: (lat, lng) for pk, lat, lng in Camera.objects.values_list("pk", "latitude", "longitude")}


def brute_force(cameras, lat, lng):
    """{id: haversine distance} from (lat, lng) for every camera."""
    return {pk: haversine_m(lat, lng, c_lat, c_lng) for pk, (c_lat, c_lng) in cameras.items()}


def assert_same_nearest_first(found, expected_ids, distances, context):
    """found (cameras from the database) and expected_ids hold the same cameras, nearest first.

    Position by position the distances must agree; only cameras at the same distance (to within
    TIE_M, e.g. duplicates or points at the pole) may swap places.
    """
    found_ids = [camera.pk for camera in found]
    assert sorted(found_ids) == sorted(expected_ids), context
    for position, (got, want) in enumerate(zip(found_ids, expected_ids, strict=True)):
        assert abs(distances[got] - distances[want]) <= TIE_M, (context, position, got, want)
    for camera in found:
        assert abs(camera.distance_m - distances[camera.pk]) <= DISTANCE_TOLERANCE_M, (context, camera.pk)


def scattered_points(rng):
    """Several hundred points around each cluster (denser in the middle), with awkward extras."""
    points = []
    for lat, lng in CLUSTERS:
        for _ in range(90):
            points.append(destination(lat, lng, rng.uniform(0, 360), 30_000 * rng.random() ** 1.5))
    # Duplicates (same coordinates, so the database orders them by id) and exact edge values.
    points += [points[i] for i in rng.sample(range(len(points)), 20)]
    points += [(90.0, 0.0), (90.0, 123.0), (89.999, -180.0), (89.999, 180.0)]
    points += [(-16.5, 180.0), (-16.5, -180.0), (-16.49, 179.9999), (-16.51, -179.9999)]
    points += [(0.0, 32.5), (-0.0001, 32.5001)]
    return points


def random_radius(rng, distances):
    kind = rng.random()
    if kind < 0.1:
        return 0.0
    if kind < 0.3:  # just short of, or just past, some camera: the boundary decision must be exact
        nearby = [d for d in distances.values() if d <= 50_000]
        if nearby:
            return max(0.0, rng.choice(nearby) + rng.choice([-1, 1]) * rng.choice([1e-5, 1e-3, 0.1]))
    if kind < 0.65:
        return rng.uniform(0, 50_000)
    return 10 ** rng.uniform(0, math.log10(50_000))  # 1 m to 50 km, many small ones


def random_centre(rng, cameras):
    kind = rng.random()
    if kind < 0.2:  # exactly on a camera, so zero and tiny radii find something
        return rng.choice(list(cameras.values()))
    if kind < 0.25:
        return rng.choice([(90.0, rng.uniform(-180, 180)), (-16.5, 180.0), (-16.5, -180.0), (89.99, -180.0)])
    lat, lng = rng.choice(CLUSTERS)
    return destination(lat, lng, rng.uniform(0, 360), 40_000 * rng.random())


# --- within() -----------------------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2])
def test_within_agrees_exactly_with_a_brute_force_great_circle_check(seed):
    rng = random.Random(seed)
    cameras = make_cameras(scattered_points(rng))
    assert len(cameras) > 350
    non_empty = 0
    for query in range(150):
        lat, lng = random_centre(rng, cameras)
        distances = brute_force(cameras, lat, lng)
        radius = random_radius(rng, distances)
        context = f"seed={seed} query={query} centre=({lat!r}, {lng!r}) radius={radius!r}"
        ties = {pk for pk, d in distances.items() if abs(d - radius) <= TIE_M}
        expected = sorted((d, pk) for pk, d in distances.items() if d <= radius and pk not in ties)
        found = [camera for camera in Camera.objects.within(lat, lng, radius) if camera.pk not in ties]
        assert_same_nearest_first(found, [pk for _, pk in expected], distances, context)
        non_empty += bool(found)
    assert non_empty > 75  # the comparison is not vacuous


@pytest.mark.django_db
def test_zero_radius_returns_exactly_the_cameras_at_the_same_coordinates():
    lat, lng = 40.7128, -74.0060
    cameras = make_cameras([(lat, lng), (lat, lng), (lat, lng), (lat + 1e-7, lng), (lat, lng - 1e-7), (41.0, -74.0)])
    same = sorted(pk for pk, point in cameras.items() if point == (lat, lng))
    assert len(same) == 3

    assert [camera.pk for camera in Camera.objects.within(lat, lng, 0)] == same
    assert all(camera.distance_m == 0.0 for camera in Camera.objects.within(lat, lng, 0))
    assert list(Camera.objects.within(lat + 5e-8, lng, 0)) == []


@pytest.mark.django_db
@pytest.mark.parametrize("centre_lng", [179.999, -179.999, 180.0, -180.0])
def test_a_circle_crossing_the_antimeridian_finds_cameras_on_both_sides(centre_lng):
    lat = -16.5
    west_side = [(lat, 179.99), (lat + 0.01, 179.995), (lat, 180.0)]
    east_side = [(lat, -179.99), (lat - 0.01, -179.995), (lat, -180.0)]
    too_far = [(lat, 179.9), (lat, -179.9), (lat, 0.0)]
    cameras = make_cameras(west_side + east_side + too_far)
    inside = {pk for pk, point in cameras.items() if point not in too_far}

    found = list(Camera.objects.within(lat, centre_lng, 3_000))

    assert {camera.pk for camera in found} == inside
    assert {math.copysign(1, cameras[camera.pk][1]) for camera in found} == {1, -1}
    for camera in found:
        assert camera.distance_m == pytest.approx(haversine_m(lat, centre_lng, *cameras[camera.pk]), abs=1e-3)


@pytest.mark.django_db
@pytest.mark.parametrize("pole_lat", [90.0, -90.0])
@pytest.mark.parametrize("offset_deg", [0.0, 0.01])
def test_a_circle_around_a_pole_finds_cameras_at_all_longitudes(pole_lat, offset_deg):
    sign = math.copysign(1, pole_lat)
    ring = [(sign * 89.98, lng) for lng in range(-180, 181, 15)]  # about 2.2 km from the pole
    outside = [(sign * 89.9, 90.0), (sign * 89.9, -90.0)]  # about 11 km away
    cameras = make_cameras(ring + outside + [(pole_lat, 0.0)])
    centre = (pole_lat - sign * offset_deg, 45.0)  # on the pole, or 1.1 km off it

    found = {camera.pk for camera in Camera.objects.within(*centre, 5_000)}

    assert {cameras[pk] for pk in found} == set(ring) | {(pole_lat, 0.0)}
    assert {cameras[pk][1] for pk in found} >= set(range(-180, 181, 15))


@pytest.mark.django_db
def test_within_keeps_other_filters_and_joins_it_is_chained_with(resident, business):
    near = CameraFactory(owner=resident, latitude=40.7128, longitude=-74.006)
    CameraFactory(owner=business, latitude=40.7129, longitude=-74.006)
    CameraFactory(owner=resident, latitude=40.80, longitude=-74.006)  # 9.7 km away

    found = list(Camera.objects.owned_by(resident).select_related("owner").within(40.7128, -74.006, 500))

    assert found == [near]
    assert found[0].owner.email == resident.email


def test_the_search_index_carries_every_column_a_search_reads():
    index = next(index for index in Camera._meta.indexes if index.name == "camera_band_lng_lat")
    carried = {Camera._meta.get_field(name).column for name in (*index.fields, *index.include)}
    compiler = Camera.objects.within(40.7128, -74.006, 800).query.get_compiler(using="default")
    compiler.setup_query()
    selected = {expression.target.column for expression, _, _ in compiler.select if hasattr(expression, "target")}

    assert len(selected) == 10
    # A column added to Camera belongs in SEARCH_INDEX_INCLUDES or in NOT_LOADED_BY_SEARCHES.
    assert selected | {"unit_x", "unit_y", "unit_z"} <= carried


@pytest.mark.django_db
def test_repeated_searches_are_prepared_on_the_postgresql_server():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are a PostgreSQL setting")
    CameraFactory(owner=OwnerFactory(), latitude=40.7128, longitude=-74.006)
    for offset in range(6):  # a different centre each time: one statement, other parameters
        assert len(Camera.objects.within(40.7128 + offset * 1e-6, -74.006, 100)) == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        statements = [statement for (statement,) in cursor.fetchall()]
    assert any('"cameras_camera".lat_band IN' in statement for statement in statements), statements


# --- nearest() ----------------------------------------------------------------------------

@pytest.mark.django_db
def test_nearest_returns_the_same_cameras_in_the_same_order_as_brute_force():
    rng = random.Random(7)
    cameras = make_cameras(scattered_points(rng))
    for query in range(40):
        lat, lng = random_centre(rng, cameras)
        n = rng.choice([1, 2, 5, 20, 60])
        distances = brute_force(cameras, lat, lng)
        expected = [pk for _, pk in sorted((d, pk) for pk, d in distances.items())[:n]]
        found = Camera.objects.nearest(lat, lng, n)
        assert len(found) == n
        assert_same_nearest_first(found, expected, distances, f"query={query} centre=({lat}, {lng}) n={n}")


@pytest.mark.django_db
def test_nearest_returns_every_camera_when_there_are_fewer_than_asked_for():
    cameras = make_cameras([(40.7128, -74.0060), (51.5074, -0.1278), (-33.8688, 151.2093)])
    lat, lng = 35.6762, 139.6503  # Tokyo

    found = Camera.objects.nearest(lat, lng, 10)

    distances = brute_force(cameras, lat, lng)
    assert [camera.pk for camera in found] == sorted(cameras, key=distances.get)
    assert Camera.objects.nearest(lat, lng, 0) == []


@pytest.mark.django_db
def test_nearest_finds_a_camera_thousands_of_kilometres_away():
    cameras = make_cameras([(40.7128 + i * 0.001, -74.0060) for i in range(5)])
    lat, lng = -33.8688, 151.2093  # Sydney, about 16,000 km from New York

    found = Camera.objects.nearest(lat, lng, 2)

    distances = brute_force(cameras, lat, lng)
    assert [camera.pk for camera in found] == sorted(cameras, key=distances.get)[:2]
    assert found[0].distance_m > 15_000_000
    assert found[0].distance_m == pytest.approx(distances[found[0].pk], abs=DISTANCE_TOLERANCE_M)


# --- approximate_location() ---------------------------------------------------------------

HALF_DIAGONAL_M = APPROXIMATE_GRID_M * math.sqrt(2) / 2  # 106.07 m
SNAP_LIMIT_M = HALF_DIAGONAL_M + 1.0  # plus rounding to six decimals and the sphere's curvature


def assert_snaps_nearby(lat, lng):
    snapped_lat, snapped_lng = approximate_location(lat, lng)
    assert -90.0 <= snapped_lat <= 90.0 and -180.0 <= snapped_lng <= 180.0, (lat, lng)
    assert haversine_m(lat, lng, snapped_lat, snapped_lng) <= SNAP_LIMIT_M, (lat, lng)


def test_approximate_location_moves_a_point_at_most_half_a_cell_diagonal():
    rng = random.Random(11)
    for _ in range(20_000):
        assert_snaps_nearby(rng.uniform(-85, 85), rng.uniform(-180, 180))


def test_approximate_location_stays_in_range_near_the_antimeridian_and_the_poles():
    rng = random.Random(12)
    edges = [(lat, lng) for lat in (-90.0, -89.9999, 0.0, 89.9999, 90.0) for lng in (-180.0, 0.0, 179.9999, 180.0)]
    near_antimeridian = [(rng.uniform(-85, 85), rng.choice([-1, 1]) * rng.uniform(179.99, 180)) for _ in range(5_000)]
    for lat, lng in edges + near_antimeridian:
        assert_snaps_nearby(lat, lng)
    for _ in range(5_000):
        lat, lng = rng.choice([-1, 1]) * rng.uniform(89.9, 90), rng.uniform(-180, 180)
        snapped_lat, snapped_lng = approximate_location(lat, lng)
        assert -90.0 <= snapped_lat <= 90.0 and -180.0 <= snapped_lng <= 180.0, (lat, lng)


def test_approximate_location_moves_a_point_at_most_half_a_cell_diagonal_near_the_poles():
    rng = random.Random(13)
    for _ in range(20_000):
        assert_snaps_nearby(rng.choice([-1, 1]) * rng.uniform(89.99, 90), rng.uniform(-180, 180))


def test_points_in_the_same_cell_snap_to_the_same_place():
    rng = random.Random(14)
    checked = 0
    cell_lat = math.degrees(APPROXIMATE_GRID_M / EARTH_RADIUS_M)
    for _ in range(5_000):
        lat = rng.uniform(-89.9, 89.9)
        lng = rng.choice([rng.uniform(-180, 180), rng.choice([-1, 1]) * rng.uniform(179.99, 180)])
        snapped = approximate_location(lat, lng)
        # The centre itself, and other points less than half a cell from it each way. (The last
        # column before the antimeridian is narrower than the rest and its centre can lie past
        # 180 degrees, wrapping into the first column, so the centre of that cell does not snap to
        # itself; those cells are left out.)
        cell_lng = cell_lat / math.cos(math.radians(snapped[0]))
        if abs(snapped[1]) + cell_lng / 2 < 180.0:
            assert approximate_location(*snapped) == snapped, (lat, lng)
            other_lat = snapped[0] + rng.uniform(-0.45, 0.45) * cell_lat
            other_lng = snapped[1] + rng.uniform(-0.45, 0.45) * cell_lng
            assert approximate_location(other_lat, other_lng) == snapped, (lat, lng, other_lat, other_lng)
            checked += 1
    assert checked > 4_000


# --- bounding_box() -----------------------------------------------------------------------

def inside_box(box, lat, lng):
    lat_min, lat_max, lng_ranges = box
    if not lat_min <= lat <= lat_max:
        return False
    return lng_ranges is None or any(west <= lng <= east for west, east in lng_ranges)


def tangent_bearings(lat, radius_m):
    """Bearings from the centre to the circle's most easterly and westerly points."""
    angle = radius_m / EARTH_RADIUS_M
    cos_lat = math.cos(math.radians(lat))
    if angle >= math.pi / 2 or cos_lat == 0:
        return []
    tangent_lat = math.asin(max(-1.0, min(1.0, math.sin(math.radians(lat)) / math.cos(angle))))
    sin_bearing = min(1.0, math.cos(tangent_lat) / cos_lat)
    bearing = math.degrees(math.asin(sin_bearing))
    return [bearing, 180 - bearing, 180 + bearing, 360 - bearing]


@settings(max_examples=300, deadline=None)
@given(
    lat=st.floats(-90, 90),
    lng=st.floats(-180, 180),
    radius_m=st.one_of(st.floats(0, 100_000), st.floats(0, math.pi * EARTH_RADIUS_M)),
    bearing=st.floats(0, 360),
)
def test_every_point_on_the_circle_lies_inside_the_bounding_box(lat, lng, radius_m, bearing):
    box = bounding_box(lat, lng, radius_m)
    lat_min, lat_max, lng_ranges = box
    assert -90.0 <= lat_min <= lat <= lat_max <= 90.0
    for west, east in lng_ranges or []:
        assert -180.0 <= west <= east <= 180.0
    for b in [bearing, *range(0, 360, 5), *tangent_bearings(lat, radius_m)]:
        point = destination(lat, lng, b, radius_m)
        assert inside_box(box, *point), (b, point, box)


def test_a_snapped_point_snaps_to_itself_even_beside_the_antimeridian():
    rng = random.Random(15)
    for _ in range(5_000):
        lat = rng.uniform(-90, 90)
        lng = rng.choice([rng.uniform(-180, 180), rng.choice([-1, 1]) * rng.uniform(179.9, 180)])
        snapped = approximate_location(lat, lng)
        assert approximate_location(*snapped) == snapped, (lat, lng)


def test_destination_point_lies_at_the_given_distance():
    from cameras.geo import destination_point

    rng = random.Random(16)
    for _ in range(1_000):
        lat, lng = rng.uniform(-80, 80), rng.uniform(-180, 180)
        distance = rng.uniform(0, 50_000)
        end = destination_point(lat, lng, rng.uniform(0, 2 * math.pi), distance)
        assert haversine_m(lat, lng, *end) == pytest.approx(distance, abs=1e-3)
        assert -180.0 <= end[1] < 180.0


@pytest.mark.parametrize(("lat", "band"), [(40.7128, 4071), (0.0, 0), (-0.0001, -1), (-33.8688, -3387), (90.0, 9000)])
def test_latitude_bands_are_floor_of_hundredths_of_a_degree(lat, band):
    assert latitude_band(lat) == band


@pytest.mark.django_db
def test_a_camera_knows_its_latitude_band_after_moving(resident):
    camera = CameraFactory(owner=resident, latitude=-33.8688, longitude=151.2093)
    assert camera.lat_band == -3387
    camera.set_location(40.7128, -74.006)
    camera.save()
    assert Camera.objects.get(pk=camera.pk).lat_band == 4071
    assert list(Camera.objects.within(40.7128, -74.006, 1)) == [camera]


@pytest.mark.django_db
def test_a_camera_found_by_within_moves_with_its_index_columns(resident, django_assert_num_queries):
    CameraFactory(owner=resident, latitude=40.7128, longitude=-74.006)
    found = Camera.objects.within(40.7128, -74.006, 10)[0]
    with django_assert_num_queries(0):  # what a caller reads needs no second query
        seen = (found.name, found.latitude, found.longitude, found.address, found.coverage, found.distance_m)
    assert seen[1:3] == (40.7128, -74.006) and seen[5] < 1

    found.set_location(-33.8688, 151.2093)
    found.save()

    assert list(Camera.objects.within(-33.8688, 151.2093, 1)) == [found]
    assert list(Camera.objects.within(40.7128, -74.006, 1000)) == []
