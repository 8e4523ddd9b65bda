"""The public transparency report: each figure of a known history, the audit log's totals, the coarse map,
the open data, who may read them (everyone) and what they never contain."""

import copy
import csv
import io
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone

from cameras.geo import destination_point
from cameras.live import live_session_end, live_session_start
from cameras.models import Camera
from cameras.services import stream_source_set
from cameras.tests.factories import CameraFactory
from incidents.services import cad_event_receive, integration_key_create
from portal import transparency
from portal.audit import GENESIS_HASH, audit_record, audit_verify
from portal.models import AuditEvent
from portal.tests.factories import OwnerFactory, sign_waiver
from requests_app import services, submissions
from requests_app.models import AreaRequest, FootageRequest
from requests_app.tests.factories import IncidentFactory, finished_upload
from requests_app.tests.videos import make_mp4

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")
REPORT_AT = datetime(2026, 5, 20, 12, 0, tzinfo=NY)
BASE = (40.7301, -73.9952)  # not the map's default centre, which the page shows
URLS = ["/transparency/", "/api/v1/transparency/report.json", "/api/v1/transparency/monthly.csv",
        "/api/v1/transparency/map.csv", "/api/v1/transparency/summary.csv"]


def at(month, day, hour, minute=0, year=2026):
    return datetime(year, month, day, hour, minute, tzinfo=NY)


class Clock:
    """The time every service (and every audit event) sees: tests write history months back."""

    def __init__(self, monkeypatch):
        self.now = REPORT_AT.astimezone(UTC)
        monkeypatch.setattr("django.utils.timezone.now", lambda: self.now)
        # AuditEvent.created_at's default is the function object itself, bound when the model was defined.
        monkeypatch.setattr(AuditEvent._meta.get_field("created_at"), "_get_default", lambda: self.now)

    def set(self, moment):
        self.now = moment.astimezone(UTC)  # as timezone.now() gives it, so that audit hashes still verify
        return self.now


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


def place(index):
    """The index-th spot of the test city, 3 km apart from each other (no circle below holds two)."""
    return destination_point(*BASE, 1.5708, 3000 * index)


def owner_at(spot, *, cameras=1, metres_north=20, account_type="resident"):
    owner = OwnerFactory(account_type=account_type)
    sign_waiver(owner)
    for number in range(cameras):
        latitude, longitude = destination_point(*spot, 0.0, metres_north + 10 * number)
        CameraFactory(owner=owner, latitude=latitude, longitude=longitude)
    return owner


def send(operator, *, spot, radius_m, window_hours, incident_type="burglary"):
    # A reference of its own: the CAD's incidents take "<year>-<id>" ones, which the factory's sequence would repeat.
    incident = IncidentFactory(incident_type=incident_type, latitude=spot[0], longitude=spot[1],
                               reference=f"T-{uuid.uuid4().hex[:8]}")
    end = timezone.now() - timedelta(hours=1)
    return services.area_request_create(incident=incident, sender=operator, latitude=spot[0], longitude=spot[1],
                                        radius_m=radius_m, window_start=end - timedelta(hours=window_hours),
                                        window_end=end)


def request_of(owner):
    return FootageRequest.objects.get(owner=owner)


def live_camera(owner, spot, **rules):
    camera = CameraFactory(owner=owner, access_level=Camera.AccessLevel.INTEGRATED, latitude=spot[0],
                           longitude=spot[1], rules=rules)
    stream_source_set(camera=camera, actor=owner, kind="mjpeg", url="http://cam.example.net/video")
    return camera


def watch(camera, viewer, *, start, minutes=None, incident=None):
    facts = Camera.objects.with_policy_facts().select_related("stream").get(pk=camera.pk)
    started = live_session_start(camera=facts, viewer=viewer, incident=incident, at=start)
    assert started.session is not None, started.decision.reason
    if minutes is not None:
        live_session_end(session=started.session, code="stopped", at=start + timedelta(minutes=minutes))
    return started.session


@pytest.fixture
def history(clock, waivers, operator, supervisor):
    """A year of the program, with every figure known (the comments give the expected counts)."""
    clock.set(at(3, 1, 9, year=2025))
    people = {"old": owner_at(place(0)), "ana": owner_at(place(1)), "ben": owner_at(place(1), metres_north=60),
              "cai": owner_at(place(3)), "dee": owner_at(place(4), cameras=2),  # two cameras, one owner asked
              "eve": owner_at(place(4), metres_north=400), "fay": owner_at(place(6))}
    shop = owner_at(place(8), cameras=0, account_type="business")
    cad_key, _raw = integration_key_create(name="County CAD", kind="cad")
    alarm_key, _raw = integration_key_create(name="Acme Alarms", kind="alarm")
    camera_always = live_camera(shop, place(8), live_mode="always")
    camera_schedule = live_camera(shop, destination_point(*place(8), 0.0, 50), live_mode="schedule",
                                  schedule=[{"days": list(range(7)), "start": "00:00", "end": "23:59"}])
    camera_alarm = live_camera(shop, destination_point(*place(8), 0.0, 100), live_mode="incident",
                               incident_radius_m=300, incident_minutes=60)

    # April 2025: outside the last 12 months, counts nowhere.
    clock.set(at(4, 10, 10, year=2025))
    send(operator, spot=place(0), radius_m=100, window_hours=1)
    clock.set(at(4, 10, 11, year=2025))
    services.footage_request_approve(footage_request=request_of(people["old"]))

    # February 2026: two requests (burglary 100 m / 2 h; robbery 300 m / 30 min), three owners asked.
    clock.set(at(2, 10, 10))
    send(operator, spot=place(1), radius_m=100, window_hours=2)
    send(operator, spot=place(3), radius_m=300, window_hours=0.5, incident_type="robbery")
    clock.set(at(2, 10, 10, 30))
    services.footage_request_approve(footage_request=request_of(people["ana"]))  # after 30 min
    clock.set(at(2, 10, 12))
    services.footage_request_decline(footage_request=request_of(people["ben"]), reason="Away")  # after 2 h

    # March 2026: two requests above the limits (900 m; a 20 h window); one rejected. A CAD event, posted twice.
    clock.set(at(3, 5, 9))
    over_radius = send(operator, spot=place(4), radius_m=900, window_hours=4)
    over_window = send(operator, spot=place(5), radius_m=200, window_hours=20, incident_type="theft")
    clock.set(at(3, 6, 9))
    services.area_request_decide(area_request=over_window, supervisor=supervisor, approve=False, note="Too long")
    cad_event_receive(key=cad_key, external_id="CAD-1", event_type="Shots fired", latitude=place(7)[0],
                      longitude=place(7)[1])
    clock.set(at(3, 6, 9, 5))
    cad_event_receive(key=cad_key, external_id="CAD-1", event_type="Shots fired", latitude=place(7)[0],
                      longitude=place(7)[1], status="closed")

    # April 2026: the 900 m request approved (so sent now): dee (2 cameras) answers in 1 h, eve never.
    clock.set(at(4, 2, 8))
    services.area_request_decide(area_request=over_radius, supervisor=supervisor, approve=True)
    clock.set(at(4, 2, 9))
    services.footage_request_approve(footage_request=request_of(people["dee"]))
    # Live: 15 min under "always", 30 min under the schedule.
    watch(camera_always, operator, start=clock.set(at(4, 10, 14)), minutes=15)
    watch(camera_schedule, operator, start=clock.set(at(4, 11, 14)), minutes=30)

    # May 2026: a shooting, 50 m / 5 h; fay approves in 10 min and gives a file. An alarm opens live access.
    clock.set(at(5, 3, 10))
    send(operator, spot=place(6), radius_m=50, window_hours=5, incident_type="shooting")
    clock.set(at(5, 3, 10, 10))
    approved = services.footage_request_approve(footage_request=request_of(people["fay"]))
    clock.set(at(5, 3, 10, 20))
    upload = finished_upload(approved, lambda path: make_mp4(path, seconds=1))
    submission = submissions.submission_create(footage_request=approved, upload=upload, uploader=people["fay"])
    submissions.submission_process(submission_id=submission.pk)
    clock.set(at(5, 4, 10))
    alarm = cad_event_receive(key=alarm_key, external_id="ALARM-9", event_type="Burglar alarm",
                              latitude=place(8)[0], longitude=place(8)[1]).incident
    watch(camera_alarm, operator, start=clock.set(at(5, 4, 10, 5)), minutes=5, incident=alarm)
    watch(camera_always, operator, start=clock.set(at(5, 5, 9)))  # still watching: no minutes yet

    clock.set(REPORT_AT)
    return people


def month(key, **figures):
    """The expected figures of one month: zeros, except those given ("area_requests__total": 2 style)."""
    expected = copy.deepcopy(transparency._empty_month(key))
    for path, value in figures.items():
        *parents, last = path.split("__")
        target = expected
        for name in parents:
            target = target[name]
        target[last] = value
    return expected


EXPECTED = {
    "2026-02": month(
        "2026-02", area_requests__total=2, area_requests__by_incident_type__burglary=1,
        area_requests__by_incident_type__robbery=1, area_requests__by_radius__up_to_100m=1,
        area_requests__by_radius__251_500m=1, area_requests__by_window__up_to_1h=1, area_requests__by_window__1_3h=1,
        owners_asked=3, approved=1, declined=1, no_answer=1, median_seconds_to_first_answer=4500),
    "2026-03": month("2026-03", needed_supervisor_approval=2, rejected_by_supervisor=1, cad_events=1),
    "2026-04": month(
        "2026-04", area_requests__total=1, area_requests__by_incident_type__burglary=1,
        area_requests__by_radius__501_1000m=1, area_requests__by_window__3_6h=1,
        owners_asked=2, approved=1, no_answer=1, median_seconds_to_first_answer=3600,
        live_sessions__total=2, live_sessions__minutes=45.0,
        live_sessions__by_rule__always={"sessions": 1, "minutes": 15.0},
        live_sessions__by_rule__schedule={"sessions": 1, "minutes": 30.0}),
    "2026-05": month(
        "2026-05", area_requests__total=1, area_requests__by_incident_type__shooting=1,
        area_requests__by_radius__up_to_100m=1, area_requests__by_window__3_6h=1,
        owners_asked=1, approved=1, median_seconds_to_first_answer=600, footage_received=1, cad_events=1,
        live_sessions__total=2, live_sessions__minutes=5.0,
        live_sessions__by_rule__incident={"sessions": 1, "minutes": 5.0},
        live_sessions__by_rule__always={"sessions": 1, "minutes": 0.0}),
}


def test_each_monthly_figure_of_a_known_history(history):
    report = transparency.transparency_report_build(now=REPORT_AT)

    assert report["months"] == [f"{year}-{number:02d}" for year, number in
                                [(2025, n) for n in range(6, 13)] + [(2026, n) for n in range(1, 6)]]
    for figures in report["monthly"]:
        assert figures == EXPECTED.get(figures["month"], month(figures["month"])), figures["month"]


def test_the_totals_add_up_the_months_and_take_one_median_over_every_answer(history):
    totals = transparency.transparency_report_build(now=REPORT_AT)["totals"]

    assert totals["area_requests"]["total"] == 4
    assert totals["area_requests"]["by_incident_type"]["burglary"] == 2
    assert totals["area_requests"]["by_radius"] == {"up_to_100m": 2, "101_250m": 0, "251_500m": 1, "501_1000m": 1,
                                                     "over_1000m": 0, "unknown": 0}
    assert totals["area_requests"]["by_window"] == {"up_to_1h": 1, "1_3h": 1, "3_6h": 2, "6_12h": 0, "over_12h": 0,
                                                     "unknown": 0}
    assert (totals["owners_asked"], totals["approved"], totals["declined"], totals["no_answer"]) == (6, 3, 1, 2)
    assert totals["median_seconds_to_first_answer"] == 2700  # answers after 30, 120, 60 and 10 minutes
    assert (totals["needed_supervisor_approval"], totals["rejected_by_supervisor"]) == (2, 1)
    assert (totals["footage_received"], totals["cad_events"]) == (1, 2)
    assert totals["live_sessions"] == {"total": 4, "minutes": 50.0, "by_rule": {
        "schedule": {"sessions": 1, "minutes": 30.0}, "incident": {"sessions": 1, "minutes": 5.0},
        "always": {"sessions": 2, "minutes": 15.0}}}


def test_the_report_totals_equal_counts_taken_directly_from_the_audit_log(history):
    report = transparency.transparency_report_build(now=REPORT_AT)
    totals = report["totals"]
    events = AuditEvent.objects.filter(created_at__gte=at(6, 1, 0, year=2025))

    sent = (events.filter(action="area_request.created", details__status="sent").count()
            + events.filter(action="area_request.approved").count())
    assert totals["area_requests"]["total"] == sent
    assert totals["owners_asked"] == events.filter(action="request.sent").values("target").distinct().count()
    assert totals["approved"] == events.filter(action="request.approved").count()
    assert totals["declined"] == events.filter(action="request.declined").count()
    assert totals["needed_supervisor_approval"] == events.filter(action="area_request.created").exclude(
        details__over_limits=[]).count()
    assert totals["rejected_by_supervisor"] == events.filter(action="area_request.rejected").count()
    assert totals["footage_received"] == events.filter(action="footage.accepted").count()
    assert totals["live_sessions"]["total"] == events.filter(action="live.started").count()
    seconds = sum(event.details["seconds"] for event in events.filter(action="live.ended"))
    assert totals["live_sessions"]["minutes"] == round(seconds / 60, 1)
    assert totals["cad_events"] == events.filter(action="incident.created").filter(
        Q(details__source="cad") | Q(details__source="alarm")).count()
    head = AuditEvent.objects.order_by("id").last()
    assert report["audit_head"] == {"events": AuditEvent.objects.count(), "last_id": head.id, "hash": head.hash,
                                    "as_of": REPORT_AT.isoformat()}
    assert audit_verify().ok


def test_program_size_counts_active_residents_and_businesses_and_their_cameras(db, resident, business, operator):
    CameraFactory.create_batch(2, owner=resident)
    CameraFactory(owner=business, access_level=Camera.AccessLevel.INTEGRATED)
    gone = OwnerFactory(is_active=False)
    CameraFactory(owner=gone)

    assert transparency.program_size() == {"cameras_registered": 2, "cameras_integrated": 1, "residents": 1,
                                           "businesses": 1}


def test_an_area_request_whose_row_is_gone_still_counts_as_unknown(clock, waivers, operator):
    clock.set(at(5, 1, 9))
    owner_at(place(1))
    sent = send(operator, spot=place(1), radius_m=100, window_hours=1)
    AreaRequest.objects.filter(pk=sent.pk).delete()  # with its footage requests

    figures = transparency.transparency_report_build(now=REPORT_AT)["monthly"][-1]

    assert figures["area_requests"]["total"] == 1
    assert figures["area_requests"]["by_radius"]["unknown"] == 1
    assert figures["area_requests"]["by_incident_type"]["unknown"] == 1
    assert figures["owners_asked"] == 1  # the audit log still knows who was asked


def test_the_bands_are_half_open_ranges():
    assert transparency.band_of(transparency.RADIUS_BANDS, 100) == "up_to_100m"
    assert transparency.band_of(transparency.RADIUS_BANDS, 101) == "101_250m"
    assert transparency.band_of(transparency.RADIUS_BANDS, 1000) == "501_1000m"
    assert transparency.band_of(transparency.RADIUS_BANDS, 1001) == "over_1000m"
    assert transparency.band_of(transparency.WINDOW_BANDS, 1) == "up_to_1h"
    assert transparency.band_of(transparency.WINDOW_BANDS, 12) == "6_12h"
    assert transparency.band_of(transparency.WINDOW_BANDS, 12.01) == "over_12h"


# --- The coarse map -------------------------------------------------------------------------------

def cameras_in_cell(row, column, count, **kwargs):
    bounds = transparency.cell_bounds(row, column)
    for number in range(count):
        share = (number + 1) / (count + 2)  # never the cell's centre, which is published
        CameraFactory(latitude=bounds["south"] + share * (bounds["north"] - bounds["south"]),
                      longitude=bounds["west"] + (1 - share) * (bounds["east"] - bounds["west"]), **kwargs)


def test_the_grid_shows_only_cells_with_at_least_five_cameras(db):
    row, column = transparency.grid_cell(*BASE)
    cameras_in_cell(row, column, 5)
    cameras_in_cell(row, column + 1, 4)
    cameras_in_cell(row + 3, column, 4)
    cameras_in_cell(row + 3, column, 1, owner=OwnerFactory(is_active=False))  # a closed account counts nowhere

    grid = transparency.camera_grid()

    assert grid["cameras_not_shown"] == 8
    assert grid["cells"] == [{**transparency.cell_bounds(row, column), "cameras": 5,
                              "centre_lat": pytest.approx(BASE[0], abs=0.005),
                              "centre_lng": pytest.approx(BASE[1], abs=0.007)}]


def test_grid_cells_are_about_500_metres_square_and_hold_their_cameras():
    from cameras.geo import haversine_m

    for latitude, longitude in [BASE, (59.3293, 18.0686), (-33.8688, 151.2093), (0.0001, -0.0001)]:
        row, column = transparency.grid_cell(latitude, longitude)
        cell = transparency.cell_bounds(row, column)

        assert cell["south"] <= latitude < cell["north"] and cell["west"] <= longitude < cell["east"]
        middle = (cell["south"] + cell["north"]) / 2
        assert haversine_m(cell["south"], cell["west"], cell["north"], cell["west"]) == pytest.approx(500, abs=1)
        assert haversine_m(middle, cell["west"], middle, cell["east"]) == pytest.approx(500, abs=1)


# --- Freshness and the cache ------------------------------------------------------------------------

def test_the_report_is_cached_for_an_hour_with_its_time(db, resident):
    first = transparency.transparency_report()
    CameraFactory(owner=resident)

    assert transparency.transparency_report() == first
    cache.delete(transparency.CACHE_KEY)
    assert transparency.transparency_report()["program"]["cameras_registered"] == 1


def test_an_empty_program_publishes_the_genesis_head(db):
    report = transparency.transparency_report_build()

    assert report["audit_head"]["events"] == 0 and report["audit_head"]["hash"] == GENESIS_HASH
    assert report["totals"]["median_seconds_to_first_answer"] is None


# --- Who may read it: everyone ---------------------------------------------------------------------

ROLES = ["anonymous", "resident", "business", "other_owner", "officer", "operator", "supervisor", "oversight"]


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("role", ROLES)
def test_everyone_may_read_the_report_signed_in_or_not(client, request, login, role, url):
    if role != "anonymous":
        login(client, request.getfixturevalue(role))

    response = client.get(url)

    assert response.status_code == 200


@pytest.mark.parametrize("url", URLS)
def test_nobody_can_write_to_the_report(client, supervisor, login, url):
    login(client, supervisor)

    assert client.post(url, {}).status_code == 405
    assert client.delete(url).status_code == 405


def test_reading_the_report_writes_no_audit_entry(client):
    client.get("/transparency/")
    client.get("/api/v1/transparency/report.json")

    assert AuditEvent.objects.count() == 0


def test_the_home_page_and_the_footer_link_to_the_report(client):
    page = client.get("/").content.decode()

    assert page.count('href="/transparency/"') >= 2


# --- Open data ---------------------------------------------------------------------------------------

def read_csv(response):
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_the_json_has_every_figure_of_the_page(client, history):
    body = client.get("/api/v1/transparency/report.json").json()

    assert set(body) == {"generated_at", "time_zone", "city", "months", "bands", "monthly", "totals", "program",
                         "map", "audit_head"}
    assert [figures["month"] for figures in body["monthly"]] == body["months"]
    assert {figures["month"]: figures for figures in body["monthly"]}["2026-04"] == EXPECTED["2026-04"]
    assert body["bands"]["radius_m"][0] == {"key": "up_to_100m", "label": "up to 100 m", "above": 0, "up_to": 100}
    assert body["program"] == {"cameras_registered": 8, "cameras_integrated": 3, "residents": 7, "businesses": 1}


def test_the_json_answers_any_site_and_says_so(client):
    response = client.get("/api/v1/transparency/report.json")

    assert response["Content-Type"] == "application/json"
    assert response["Access-Control-Allow-Origin"] == "*"


def test_the_monthly_csv_has_one_row_per_month_and_the_totals(client, history):
    response = client.get("/api/v1/transparency/monthly.csv")
    rows = read_csv(response)

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    header, *months, total = rows
    assert header == transparency.monthly_columns()
    assert len(months) == 12 and total[0] == "total"
    april = dict(zip(header, months[10], strict=True))
    assert april["month"] == "2026-04"
    assert (april["area_requests"], april["type_burglary"], april["radius_501_1000m"], april["window_3_6h"]) == (
        "1", "1", "1", "1")
    assert (april["owners_asked"], april["approved"], april["declined"], april["no_answer"]) == ("2", "1", "0", "1")
    assert april["median_seconds_to_first_answer"] == "3600"
    assert (april["live_sessions"], april["live_minutes"], april["live_sessions_schedule"],
            april["live_minutes_schedule"]) == ("2", "45.0", "1", "30.0")
    assert dict(zip(header, months[0], strict=True))["median_seconds_to_first_answer"] == ""
    assert dict(zip(header, total, strict=True))["cad_events"] == "2"


def test_the_map_and_summary_csvs(client, db):
    row, column = transparency.grid_cell(*BASE)
    cameras_in_cell(row, column, 6)
    audit_record(action="camera.registered")

    cells = read_csv(client.get("/api/v1/transparency/map.csv"))
    summary = dict(read_csv(client.get("/api/v1/transparency/summary.csv"))[1:])

    assert cells[0] == ["south", "west", "north", "east", "centre_lat", "centre_lng", "cameras"]
    assert len(cells) == 2 and cells[1][-1] == "6"
    assert summary["cameras_registered"] == "6" and summary["map_cameras_not_shown"] == "0"
    head = AuditEvent.objects.order_by("id").last()
    assert summary["audit_events"] == str(AuditEvent.objects.count()) and summary["audit_head_hash"] == head.hash


def test_the_openapi_schema_documents_the_open_data(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    for path in ["report.json", "monthly.csv", "map.csv", "summary.csv"]:
        operation = schema["paths"][f"/api/v1/transparency/{path}"]["get"]
        assert operation["tags"] == ["open data"]
        assert "security" not in operation  # no sign-in of any kind
    report = schema["paths"]["/api/v1/transparency/report.json"]["get"]["responses"]["200"]["content"]
    assert "application/json" in report
    assert "text/csv" in schema["paths"]["/api/v1/transparency/monthly.csv"]["get"]["responses"]["200"]["content"]


# --- Nothing private -------------------------------------------------------------------------------

def test_nothing_private_leaks_from_the_page_or_the_data(client, history, settings):
    row, column = transparency.grid_cell(*BASE)
    cameras_in_cell(row, column, 5, owner=history["ana"])
    cameras = list(Camera.objects.select_related("owner"))
    bodies = {url: client.get(url).content.decode() for url in URLS}
    report = json.loads(bodies["/api/v1/transparency/report.json"])

    private = set()
    for camera in cameras:
        private |= {camera.name, camera.address, camera.owner.email, camera.owner.full_name}
    for incident_reference in AuditEvent.objects.exclude(incident_reference="").values_list("incident_reference",
                                                                                             flat=True):
        private.add(incident_reference)
    private |= {"CAD-1", "ALARM-9", "County CAD", "Acme Alarms", "Away", "Too long"}
    for url, body in bodies.items():
        leaked = sorted(text for text in private if text and text in body)
        assert leaked == [], url
    # Every coordinate-like number anywhere is a published cell's corner or centre, or the map's default centre.
    cells = report["map"]["cells"]
    allowed = {value for cell in cells for key, value in cell.items() if key != "cameras"}
    allowed |= {float(value) for value in settings.LEAFLET_CONFIG["DEFAULT_CENTER"]}
    for url, body in bodies.items():
        assert {float(number) for number in re.findall(r"-?\d+\.\d{3,}", body)} <= allowed, url
    assert [cell["cameras"] for cell in cells] == [5]
    assert {key: cells[0][key] for key in ("south", "west", "north", "east")} == transparency.cell_bounds(row, column)
    assert set(cells[0]) == {"south", "west", "north", "east", "centre_lat", "centre_lng", "cameras"}


def test_the_page_shows_the_figures_their_time_and_the_audit_head(client, history, settings):
    settings.LANGUAGE_CODE = "en"
    page = client.get("/transparency/").content.decode()
    report = transparency.transparency_report()

    assert "Figures as of" in page
    assert report["audit_head"]["hash"] in page
    assert 'data-testid="cameras-integrated">3<' in page
    assert "Area requests sent, by incident type" in page
    assert "1 h 0 min" in page and "1 h 15 min" in page and "10 min" in page  # the monthly medians


def test_the_page_speaks_spanish(client, history):
    client.cookies["django_language"] = "es"
    page = client.get("/transparency/", HTTP_ACCEPT_LANGUAGE="es").content.decode()

    assert 'lang="es"' in page
    assert "Informe de transparencia" in page
    assert "Cifras a fecha de" in page
