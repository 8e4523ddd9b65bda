"""Benchmark of Camera.objects.within(): 100,000 cameras, 800 m searches, against a full Python scan.

    .venv/bin/python bench/geo.py
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench .venv/bin/python bench/geo.py

It never touches the developer's own database: by default it runs on a new SQLite file in a
temporary directory; with BENCH_DATABASE_URL it creates that PostgreSQL database (which must not
exist yet) and drops it at the end. See bench/README.md.
"""

import copy
import gc
import math
import random
import sys
import time
from contextlib import contextmanager
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchdb import run_on_throwaway_database, throwaway_environment  # noqa: E402
from benchstats import percentile  # noqa: E402

CITY_CENTRE = (40.7128, -74.0060)
CITY_RADIUS_M = 15_000
CENTRE_SIGMA_M = 5_000  # half the cameras cluster around the centre (Gaussian), half spread evenly
CAMERAS = 100_000
OWNERS = 300
RADIUS_M = 800
SEARCHES = 100
WARM_UP_SEARCHES = 10
SEED = 20240501
MAP_FIELDS = ("id", "owner", "name", "latitude", "longitude", "access_level")  # what a map or list shows


# --- Database set-up (before Django is imported) ---------------------------------------------

def configure_environment(temp_dir):
    """Point Django at a throw-away database; returns the PostgreSQL URL in use, or None."""
    return throwaway_environment(temp_dir)

# --- Data ------------------------------------------------------------------------------------

def destination(lat, lng, bearing_rad, distance_m):
    from cameras.geo import destination_point

    return destination_point(lat, lng, bearing_rad, distance_m)


def city_point(rng):
    """A point in the city: denser towards the centre, never beyond CITY_RADIUS_M."""
    if rng.random() < 0.5:
        distance = CITY_RADIUS_M * math.sqrt(rng.random())
    else:
        distance = CITY_RADIUS_M + 1
        while distance > CITY_RADIUS_M:
            distance = abs(rng.gauss(0, CENTRE_SIGMA_M) + 1j * rng.gauss(0, CENTRE_SIGMA_M))
    return destination(*CITY_CENTRE, rng.uniform(0, 2 * math.pi), distance)


def load(rng):
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from cameras.models import Camera
    from portal.models import User

    site_kinds = [choice for choice, _ in Camera.SiteKind.choices]
    with transaction.atomic():
        User.objects.bulk_create(
            User(email=f"bench-owner-{i}@example.org", full_name=f"Bench Owner {i}", password=make_password(None))
            for i in range(OWNERS)
        )
        owner_ids = list(User.objects.values_list("pk", flat=True))
        batch = []
        for i in range(CAMERAS):
            camera = Camera(owner_id=rng.choice(owner_ids), name=f"Camera {i}", address=f"{i} Bench Street",
                            site_kind=rng.choice(site_kinds), coverage=["street"])
            camera.set_location(*city_point(rng))
            batch.append(camera)
            if len(batch) == 5_000:
                Camera.objects.bulk_create(batch)
                batch = []
        Camera.objects.bulk_create(batch)


def analyze():
    """Statistics for the planner; on PostgreSQL also what autovacuum would soon do to the freshly
    loaded table (hint bits, visibility map), so that it does not do it during the searches."""
    from django.db import connection

    statement = "VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE"
    with connection.cursor() as cursor:
        cursor.execute(statement)
    return statement


# --- Measurements --------------------------------------------------------------------------

def report(label, values):
    print(f"{label + ':':48s} p50 {percentile(values, 0.5):7.2f} ms   p99 {percentile(values, 0.99):7.2f} ms")


def timed(function):
    start = time.perf_counter()
    result = function()
    return (time.perf_counter() - start) * 1000, result


def scan(rows, lat, lng):
    """The baseline: haversine in Python over every camera, nearest first."""
    from cameras.geo import haversine_m

    hits = []
    for pk, c_lat, c_lng in rows:
        distance = haversine_m(lat, lng, c_lat, c_lng)
        if distance <= RADIUS_M:
            hits.append((distance, pk))
    hits.sort()
    return [pk for _, pk in hits]


def sql_only(queryset):
    """Execute the query's SQL and fetch the rows, without building model instances."""
    from django.db import connection

    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@contextmanager
def django_default_loading():
    """Cameras loaded as plain Django would: every column, through Model.__init__, json.loads per row.

    The baseline for what Camera.from_db, ChoiceListField and within()'s deferred columns save.
    """
    from django.db import models

    from cameras.models import Camera

    coverage = Camera._meta.get_field("coverage")
    own_from_db = Camera.__dict__["from_db"]
    Camera.from_db = classmethod(models.Model.from_db.__func__)
    coverage.from_db_value = models.JSONField.from_db_value.__get__(coverage)
    try:
        yield
    finally:
        Camera.from_db = own_from_db
        del coverage.from_db_value


def unprepared_alias():
    """On PostgreSQL, a second connection to the same database with prepared statements off
    (DATABASE_PREPARED_STATEMENTS=0), to show what preparing saves; None on SQLite."""
    from django.db import connection, connections

    if connection.vendor != "postgresql":
        return None
    unprepared = copy.deepcopy(connections.settings["default"])
    unprepared["OPTIONS"]["prepare_threshold"] = None
    connections.settings["unprepared"] = unprepared
    return "unprepared"


def run(rng):
    from django.conf import settings
    from django.db import connection

    from cameras.models import Camera
    from portal.models import User

    settings.DEBUG = False  # no per-query logging in connection.queries, as in production
    with connection.cursor() as cursor:
        cursor.execute("SELECT sqlite_version()" if connection.vendor == "sqlite" else "SHOW server_version")
        version = cursor.fetchone()[0]
    print(f"database: {connection.vendor} {version} ({connection.settings_dict['NAME']})")

    (load_ms, _) = timed(lambda: load(rng))
    (analyze_ms, analyzed_with) = timed(analyze)
    print(f"loaded: {Camera.objects.count():,} cameras, {User.objects.count():,} owners in {load_ms / 1000:.1f} s "
          f"({analyzed_with} {analyze_ms:.0f} ms)")

    centres = [city_point(rng) for _ in range(SEARCHES)]
    # Collect the load's garbage now and exempt the start-up heap from later full collections, as
    # a long-running server's would be: otherwise a couple of 40 ms GC pauses land in the p99.
    gc.collect()
    gc.freeze()
    unprepared = unprepared_alias()
    for _ in range(WARM_UP_SEARCHES):
        centre = city_point(rng)
        list(Camera.objects.within(*centre, RADIUS_M))
        if unprepared:
            list(Camera.objects.using(unprepared).within(*centre, RADIUS_M))

    within_ms, found, build_ms, sql_ms, only_ms, default_ms, unprepared_ms = [], [], [], [], [], [], []
    for lat, lng in centres:
        def search(lat=lat, lng=lng):
            return Camera.objects.within(lat, lng, RADIUS_M)

        elapsed, cameras = timed(lambda: list(search()))
        within_ms.append(elapsed)
        found.append([camera.pk for camera in cameras])
        # Where the time goes: building and compiling the query, running it and fetching the rows
        # (the rest of within()'s time is building Camera instances); and fewer columns.
        build_ms.append(timed(lambda: search().query.sql_with_params())[0])
        sql_ms.append(timed(lambda: sql_only(search()))[0])
        only_ms.append(timed(lambda: list(search().only(*MAP_FIELDS)))[0])
        with django_default_loading():
            default_ms.append(timed(lambda: list(search().defer(None)))[0])
        if unprepared:
            unprepared_ms.append(timed(lambda: list(search().using(unprepared)))[0])

    rows = list(Camera.objects.values_list("pk", "latitude", "longitude"))  # loaded once, not timed
    scan_ms, scanned = [], []
    for lat, lng in centres:
        elapsed, ids = timed(lambda lat=lat, lng=lng: scan(rows, lat, lng))
        scan_ms.append(elapsed)
        scanned.append(ids)

    mismatches = [i for i in range(SEARCHES) if found[i] != scanned[i]]
    within_p50 = percentile(within_ms, 0.5)
    print(f"searches: {SEARCHES} centres within {CITY_RADIUS_M / 1000:.0f} km of {CITY_CENTRE}, radius {RADIUS_M} m, "
          f"after {WARM_UP_SEARCHES} warm-up searches")
    print(f"cameras found: mean {sum(map(len, found)) / SEARCHES:.1f}, "
          f"min {min(map(len, found))}, max {max(map(len, found))}")
    report("within()", within_ms)
    report("  building and compiling the query", build_ms)
    report("  building, running it, fetching the rows", sql_ms)
    report(f"within().only() of {len(MAP_FIELDS)} map fields", only_ms)
    report("within(), Django's default loading", default_ms)
    print(f"  default loading / within(): {percentile(default_ms, 0.5) / within_p50:.2f}x (p50)")
    if unprepared:
        report("within(), statements not prepared", unprepared_ms)
        print(f"  not prepared / within(): {percentile(unprepared_ms, 0.5) / within_p50:.2f}x (p50)")
    report("Python scan (baseline)", scan_ms)
    print(f"speed-up: {percentile(scan_ms, 0.5) / within_p50:.1f}x (scan p50 / within() p50)")
    print(f"results identical: {'no' if mismatches else 'yes'}")
    for i in mismatches[:3]:
        print(f"  centre {centres[i]}: within() {len(found[i])} cameras, scan {len(scanned[i])}; "
              f"only in within(): {sorted(set(found[i]) - set(scanned[i]))[:5]}, "
              f"only in scan: {sorted(set(scanned[i]) - set(found[i]))[:5]}")
    print(f"target: within() p50 under 5 ms: {'met' if within_p50 < 5 else 'NOT met'}")

    explain = Camera.objects.within(*CITY_CENTRE, RADIUS_M)
    plan = explain.explain(analyze=True) if connection.vendor == "postgresql" else explain.explain()
    print("plan at the city centre:")
    for line in plan.splitlines():
        print(f"  {line}")
    return not mismatches


def main():
    rng = random.Random(SEED)  # noqa: S311  (reproducible test data, not secrets)
    return run_on_throwaway_database("portal-bench-geo-", configure_environment, lambda temp_dir: run(rng))


if __name__ == "__main__":
    sys.exit(main())
