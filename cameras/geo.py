"""Great-circle geometry for camera searches, without GeoDjango (see DESIGN.md, Geography)."""

import math

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG)
APPROXIMATE_GRID_M = 150.0


def unit_vector(lat, lng):
    """The point (lat, lng) on the unit sphere, as (x, y, z), each rounded to 15 decimals (nanometres).

    The rounding keeps the squared differences that searches compute in SQL clear of float underflow
    (a latitude of 1e-192 squared), which PostgreSQL refuses with an error where SQLite gives 0.
    """
    phi, lam = math.radians(lat), math.radians(lng)
    return tuple(round(component, 15) for component in
                 (math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi)))


def chord_squared_limit(radius_m):
    """Squared straight-line distance on the unit sphere matching an arc of radius_m metres."""
    angle = min(radius_m / EARTH_RADIUS_M, math.pi)
    return (2 * math.sin(angle / 2)) ** 2


def haversine_m(lat1, lng1, lat2, lng2):
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_dphi = (phi2 - phi1) / 2
    half_dlam = math.radians(lng2 - lng1) / 2
    a = math.sin(half_dphi) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlam) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def destination_point(lat, lng, bearing_rad, distance_m):
    """The point distance_m metres from (lat, lng) along the initial bearing (radians from north)."""
    phi, lam, delta = math.radians(lat), math.radians(lng), distance_m / EARTH_RADIUS_M
    phi2 = math.asin(math.sin(phi) * math.cos(delta) + math.cos(phi) * math.sin(delta) * math.cos(bearing_rad))
    lam2 = lam + math.atan2(math.sin(bearing_rad) * math.sin(delta) * math.cos(phi),
                            math.cos(delta) - math.sin(phi) * math.sin(phi2))
    return math.degrees(phi2), (math.degrees(lam2) + 540.0) % 360.0 - 180.0


# Cameras are indexed by (latitude band, longitude, latitude): a circle's box then reads only the
# index entries of the few bands it crosses, not every camera at its latitude across the city.
BANDS_PER_DEGREE = 100  # a band is 0.01 degree of latitude, about 1.1 km
MAX_LISTED_BANDS = 64  # above this many bands, a plain range on the band is as good


def latitude_band(lat):
    return math.floor(lat * BANDS_PER_DEGREE)


def bounding_box(lat, lng, radius_m):
    """(lat_min, lat_max, lng_ranges) enclosing the circle; lng_ranges is None for all longitudes.

    Slightly enlarged so that rounding never drops a camera on the circle's edge; the exact test
    follows. Near a pole every longitude is possible; across the antimeridian there are two ranges.
    """
    margin = 1e-9
    dlat = math.degrees(radius_m / EARTH_RADIUS_M) + margin
    lat_min, lat_max = max(-90.0, lat - dlat), min(90.0, lat + dlat)
    if lat_min <= -90.0 or lat_max >= 90.0 or radius_m >= math.pi * EARTH_RADIUS_M / 2:
        return lat_min, lat_max, None
    # The widest longitude span of the circle, reached at the latitude farthest from the equator.
    sin_ratio = math.sin(radius_m / EARTH_RADIUS_M) / math.cos(math.radians(lat))
    if sin_ratio >= 1.0:
        return lat_min, lat_max, None
    dlng = math.degrees(math.asin(sin_ratio)) + margin
    west, east = lng - dlng, lng + dlng
    if west < -180.0:
        return lat_min, lat_max, [(west + 360.0, 180.0), (-180.0, east)]
    if east > 180.0:
        return lat_min, lat_max, [(west, 180.0), (-180.0, east - 360.0)]
    return lat_min, lat_max, [(west, east)]


_ROWS = math.ceil(180.0 / math.degrees(APPROXIMATE_GRID_M / EARTH_RADIUS_M))


def approximate_location(lat, lng):
    """The centre of the point's ~150 m grid cell: stable, so repeated looks reveal nothing more.

    Rows are equal bands of latitude; each row is divided into equal columns all the way round,
    as many as fit at the row's edge nearest the equator, so no cell is wider than the grid and
    none is cut short at the antimeridian. A snapped point snaps to itself.
    """
    cell_lat = 180.0 / _ROWS
    row = min(math.floor((lat + 90.0) / cell_lat), _ROWS - 1)
    south, north = -90.0 + row * cell_lat, -90.0 + (row + 1) * cell_lat
    equator_edge = 0.0 if south < 0.0 < north else min(abs(south), abs(north))
    columns = max(1, math.ceil(360.0 * math.cos(math.radians(equator_edge)) / cell_lat))
    cell_lng = 360.0 / columns
    column = min(math.floor((lng + 180.0) / cell_lng), columns - 1)
    return round((south + north) / 2, 6), round(-180.0 + (column + 0.5) * cell_lng, 6)
