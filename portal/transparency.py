"""The public transparency report: monthly figures computed from the audit log and the models.

Nothing here is stored by hand. Every monthly figure is a count over `portal.AuditEvent` rows up to
the chain's head at the time of computing (so the published head and the figures describe the same
log), joined to the area requests for their size; the program's size and the coarse map count the
cameras and accounts as they are now. `transparency_report()` keeps the result in the cache for an
hour. What each figure means is in docs/transparency.md.
"""

import math
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from cameras.geo import EARTH_RADIUS_M
from cameras.models import Camera
from incidents.models import Incident
from portal.audit import GENESIS_HASH
from portal.models import AuditEvent, User

MONTHS = 12
CACHE_KEY = "transparency:report:v1"
CACHE_SECONDS = 3600

# The coarse map: square cells of about this many metres, drawn only with at least this many cameras.
CELL_SIZE_M = 500
MIN_CAMERAS_PER_CELL = 5
CELL_LATITUDE_DEGREES = math.degrees(CELL_SIZE_M / EARTH_RADIUS_M)


@dataclass(frozen=True)
class Band:
    """A half-open range (low, high] of a request's radius in metres or window in hours; high None = no end."""

    key: str
    label: str
    low: float
    high: float | None

    def holds(self, value):
        return value > self.low and (self.high is None or value <= self.high)


RADIUS_BANDS = [
    Band("up_to_100m", _("up to 100 m"), 0, 100),
    Band("101_250m", _("101–250 m"), 100, 250),
    Band("251_500m", _("251–500 m"), 250, 500),
    Band("501_1000m", _("501–1,000 m"), 500, 1000),
    Band("over_1000m", _("over 1,000 m"), 1000, None),
]
WINDOW_BANDS = [
    Band("up_to_1h", _("up to 1 hour"), 0, 1),
    Band("1_3h", _("over 1, up to 3 hours"), 1, 3),
    Band("3_6h", _("over 3, up to 6 hours"), 3, 6),
    Band("6_12h", _("over 6, up to 12 hours"), 6, 12),
    Band("over_12h", _("over 12 hours"), 12, None),
]
# An area request whose row is gone (the audit log still counts it) has no type or size to show.
UNKNOWN_BAND = "unknown"
INCIDENT_TYPE_KEYS = [*Incident.Type.values, UNKNOWN_BAND]
RADIUS_KEYS = [*(band.key for band in RADIUS_BANDS), UNKNOWN_BAND]
WINDOW_KEYS = [*(band.key for band in WINDOW_BANDS), UNKNOWN_BAND]

# The owner's rule that allowed a live session, by the policy's code recorded in "live.started".
LIVE_RULES = {"schedule": "schedule", "incident_nearby": "incident", "always": "always"}
LIVE_RULE_LABELS = {"schedule": _("Weekly schedule"), "incident": _("Alarm or 911 event nearby"),
                    "always": _("Always")}
CAD_SOURCES = {Incident.Source.CAD, Incident.Source.ALARM}

ACTIONS = ["area_request.created", "area_request.approved", "area_request.rejected", "request.sent",
           "request.approved", "request.declined", "footage.accepted", "live.started", "live.ended",
           "incident.created"]


def band_of(bands, value):
    return next((band.key for band in bands if band.holds(value)), UNKNOWN_BAND)


def _target_id(target):
    """The number in an event's target ("area_request:12" → 12), or None."""
    _kind, _sep, number = target.partition(":")
    return int(number) if number.isdigit() else None


# --- Months ------------------------------------------------------------------------------------

def report_months(now, zone):
    """The last MONTHS calendar months in the city's time zone, oldest first, ending with the current one,
    as (key "2026-05", first instant)."""
    local = timezone.localtime(now, zone)
    year, month = local.year, local.month
    months = []
    for _index in range(MONTHS):
        months.append((f"{year:04d}-{month:02d}", datetime(year, month, 1, tzinfo=zone)))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return list(reversed(months))


def _month_key(moment, zone):
    return timezone.localtime(moment, zone).strftime("%Y-%m")


# --- The audit chain's head --------------------------------------------------------------------

def audit_head():
    """The chain's head now: how many events it holds, the last one's id and hash (the genesis hash when empty)."""
    last = AuditEvent.objects.in_chain_order().only("id", "hash").last()
    if last is None:
        return {"events": 0, "last_id": None, "hash": GENESIS_HASH}
    return {"events": AuditEvent.objects.filter(id__lte=last.id).count(), "last_id": last.id, "hash": last.hash}


# --- Monthly figures -----------------------------------------------------------------------------

def _empty_month(key):
    return {
        "month": key,
        "area_requests": {"total": 0, "by_incident_type": dict.fromkeys(INCIDENT_TYPE_KEYS, 0),
                          "by_radius": dict.fromkeys(RADIUS_KEYS, 0), "by_window": dict.fromkeys(WINDOW_KEYS, 0)},
        "needed_supervisor_approval": 0, "rejected_by_supervisor": 0,
        "owners_asked": 0, "approved": 0, "declined": 0, "no_answer": 0, "median_seconds_to_first_answer": None,
        "footage_received": 0,
        "live_sessions": {"total": 0, "minutes": 0.0,
                          "by_rule": {rule: {"sessions": 0, "minutes": 0.0} for rule in LIVE_RULE_LABELS}},
        "cad_events": 0,
    }


def _events(since, head_id):
    """The events the monthly figures read, oldest first: those of ACTIONS since `since`, up to the head."""
    if head_id is None:
        return []
    return list(AuditEvent.objects.filter(action__in=ACTIONS, created_at__gte=since, id__lte=head_id)
                .order_by("id").values("id", "action", "created_at", "target", "details"))


def monthly_figures(*, now, head_id, zone):
    """One dict per month (oldest first) and their totals, from the audit events up to `head_id`."""
    from requests_app.models import AreaRequest

    months = report_months(now, zone)
    by_month = {key: _empty_month(key) for key, _start in months}
    events = _events(months[0][1], head_id)
    by_action = defaultdict(list)
    for event in events:
        event["month"] = _month_key(event["created_at"], zone)
        by_action[event["action"]].append(event)

    # Area requests count in the month they went out to owners: at once, or when a supervisor approved.
    sent = [event for event in by_action["area_request.created"] if event["details"].get("status") == "sent"]
    sent += by_action["area_request.approved"]
    requests = AreaRequest.objects.select_related("incident").in_bulk(
        [_target_id(event["target"]) for event in sent])
    sent_by_month = defaultdict(list)
    for event in sent:
        sent_by_month[event["month"]].append(requests.get(_target_id(event["target"])))

    rejected = {event["target"] for event in by_action["area_request.rejected"]}
    over_limits = [event for event in by_action["area_request.created"] if event["details"].get("over_limits")]

    first_sent = {}
    for event in by_action["request.sent"]:  # one event per camera; the owner's request is the target
        first_sent.setdefault(event["target"], event)
    answers = {}
    for event in by_action["request.approved"] + by_action["request.declined"]:
        if event["target"] in first_sent and (event["target"] not in answers
                                              or event["id"] < answers[event["target"]]["id"]):
            answers[event["target"]] = event

    ended_seconds = {event["target"]: event["details"].get("seconds", 0) for event in by_action["live.ended"]}

    for key, month in by_month.items():
        _fill_area_requests(month, sent_by_month.get(key, []))
        month["needed_supervisor_approval"] = sum(event["month"] == key for event in over_limits)
        month["rejected_by_supervisor"] = sum(event["month"] == key and event["target"] in rejected
                                              for event in over_limits)
    for target, event in first_sent.items():
        month = by_month.get(event["month"])
        if month is None:
            continue
        month["owners_asked"] += 1
        answer = answers.get(target)
        if answer is None:
            month["no_answer"] += 1
        else:
            month["approved" if answer["action"] == "request.approved" else "declined"] += 1
    _fill_medians(by_month, first_sent, answers)
    for event in by_action["footage.accepted"]:
        by_month[event["month"]]["footage_received"] += 1
    for event in by_action["live.started"]:
        _count_live(by_month[event["month"]]["live_sessions"], event, ended_seconds)
    for event in by_action["incident.created"]:
        if event["details"].get("source") in CAD_SOURCES:
            by_month[event["month"]]["cad_events"] += 1

    monthly = [by_month[key] for key, _start in months]
    return monthly, _totals(monthly, first_sent, answers)


def _fill_area_requests(month, area_requests):
    figures = month["area_requests"]
    figures["total"] = len(area_requests)
    types, radii, windows = Counter(), Counter(), Counter()
    for area_request in area_requests:
        if area_request is None:
            types[UNKNOWN_BAND] += 1
            radii[UNKNOWN_BAND] += 1
            windows[UNKNOWN_BAND] += 1
            continue
        types[area_request.incident.incident_type] += 1
        radii[band_of(RADIUS_BANDS, area_request.radius_m)] += 1
        hours = (area_request.window_end - area_request.window_start).total_seconds() / 3600
        windows[band_of(WINDOW_BANDS, hours)] += 1
    # Every key always present (zeros too), so that the open data keep one shape from month to month.
    figures["by_incident_type"] = {key: types[key] for key in INCIDENT_TYPE_KEYS}
    figures["by_radius"] = {key: radii[key] for key in RADIUS_KEYS}
    figures["by_window"] = {key: windows[key] for key in WINDOW_KEYS}


def _answer_seconds(first_sent, answers, months):
    """Seconds from each owner's request to its answer, for the requests sent in `months`."""
    return [(answer["created_at"] - first_sent[target]["created_at"]).total_seconds()
            for target, answer in answers.items() if first_sent[target]["month"] in months]


def _median(values):
    return round(statistics.median(values)) if values else None


def _fill_medians(by_month, first_sent, answers):
    for key, month in by_month.items():
        month["median_seconds_to_first_answer"] = _median(_answer_seconds(first_sent, answers, {key}))


def _count_live(live, event, ended_seconds):
    rule = LIVE_RULES.get(event["details"].get("code"))
    minutes = ended_seconds.get(event["target"], 0) / 60
    live["total"] += 1
    live["minutes"] = round(live["minutes"] + minutes, 1)
    if rule is not None:
        live["by_rule"][rule]["sessions"] += 1
        live["by_rule"][rule]["minutes"] = round(live["by_rule"][rule]["minutes"] + minutes, 1)


def _totals(monthly, first_sent, answers):
    """The twelve months added up; the median is taken over every answer of the period, not of the medians."""
    totals = _empty_month("total")
    area = totals["area_requests"]
    for month in monthly:
        area["total"] += month["area_requests"]["total"]
        for part in ("by_incident_type", "by_radius", "by_window"):
            for key, count in month["area_requests"][part].items():
                area[part][key] += count
        for name in ("needed_supervisor_approval", "rejected_by_supervisor", "owners_asked", "approved", "declined",
                     "no_answer", "footage_received", "cad_events"):
            totals[name] += month[name]
        live = totals["live_sessions"]
        live["total"] += month["live_sessions"]["total"]
        live["minutes"] = round(live["minutes"] + month["live_sessions"]["minutes"], 1)
        for rule, figures in month["live_sessions"]["by_rule"].items():
            live["by_rule"][rule]["sessions"] += figures["sessions"]
            live["by_rule"][rule]["minutes"] = round(live["by_rule"][rule]["minutes"] + figures["minutes"], 1)
    keys = {month["month"] for month in monthly}
    totals["median_seconds_to_first_answer"] = _median(_answer_seconds(first_sent, answers, keys))
    return totals


# --- Program size and the coarse map -----------------------------------------------------------

def program_cameras():
    """The cameras in the program now: those of active resident and business accounts."""
    return Camera.objects.filter(owner__is_active=True, owner__is_staff=False)


def program_size():
    """Cameras (registered / integrated) and accounts (residents / businesses), active accounts only."""
    levels = Counter(program_cameras().values_list("access_level", flat=True))
    accounts = Counter(User.objects.owners().filter(is_active=True).values_list("account_type", flat=True))
    return {"cameras_registered": levels[Camera.AccessLevel.REGISTERED],
            "cameras_integrated": levels[Camera.AccessLevel.INTEGRATED],
            "residents": accounts[User.AccountType.RESIDENT], "businesses": accounts[User.AccountType.BUSINESS]}


def grid_cell(latitude, longitude):
    """The (row, column) of the ~CELL_SIZE_M grid cell holding a point. Rows are fixed bands of latitude;
    each row's columns are as wide in metres as the row is tall, at the row's middle latitude."""
    row = math.floor(latitude / CELL_LATITUDE_DEGREES)
    return row, math.floor(longitude / _cell_longitude_degrees(row))


def _cell_longitude_degrees(row):
    middle = (row + 0.5) * CELL_LATITUDE_DEGREES
    return CELL_LATITUDE_DEGREES / max(math.cos(math.radians(middle)), 1e-6)


def cell_bounds(row, column):
    width = _cell_longitude_degrees(row)
    return {"south": round(row * CELL_LATITUDE_DEGREES, 6), "west": round(column * width, 6),
            "north": round((row + 1) * CELL_LATITUDE_DEGREES, 6), "east": round((column + 1) * width, 6)}


def camera_grid(minimum=MIN_CAMERAS_PER_CELL):
    """Cells holding at least `minimum` program cameras, with their counts; coordinates never leave this function
    except as cell bounds. Also how many cameras are in cells too sparse to show."""
    counts = Counter(grid_cell(latitude, longitude)
                     for latitude, longitude in program_cameras().values_list("latitude", "longitude").iterator())
    shown = sorted((cell, count) for cell, count in counts.items() if count >= minimum)
    cells = []
    for (row, column), count in shown:
        bounds = cell_bounds(row, column)
        cells.append({**bounds, "centre_lat": round((bounds["south"] + bounds["north"]) / 2, 6),
                      "centre_lng": round((bounds["west"] + bounds["east"]) / 2, 6), "cameras": count})
    return {"cell_size_m": CELL_SIZE_M, "min_cameras": minimum, "cells": cells,
            "cameras_not_shown": sum(counts.values()) - sum(cell["cameras"] for cell in cells)}


# --- The report --------------------------------------------------------------------------------

def transparency_report_build(*, now=None):
    """Compute the whole report now (no cache): a plain, JSON-ready dict."""
    now = now or timezone.now()
    zone = timezone.get_default_timezone()
    head = audit_head()
    monthly, totals = monthly_figures(now=now, head_id=head["last_id"], zone=zone)
    return {
        "generated_at": now.isoformat(), "time_zone": settings.TIME_ZONE, "city": settings.CITY_NAME,
        "months": [month["month"] for month in monthly],
        "bands": {"radius_m": [_band_dict(band) for band in RADIUS_BANDS],
                  "window_hours": [_band_dict(band) for band in WINDOW_BANDS]},
        "monthly": monthly, "totals": totals, "program": program_size(), "map": camera_grid(),
        "audit_head": {**head, "as_of": now.isoformat()},
    }


def _band_dict(band):
    with translation.override("en"):  # the open data speak one language; the page translates
        return {"key": band.key, "label": str(band.label), "above": band.low, "up_to": band.high}


def transparency_report():
    """The report as computed at most CACHE_SECONDS ago (computed now when the cache has none)."""
    report = cache.get(CACHE_KEY)
    if report is None:
        report = transparency_report_build()
        cache.set(CACHE_KEY, report, CACHE_SECONDS)
    return report


def report_generated_at(report):
    return datetime.fromisoformat(report["generated_at"])


def next_refresh(report):
    return report_generated_at(report) + timedelta(seconds=CACHE_SECONDS)


# --- The same figures as flat tables (CSV) -----------------------------------------------------

def monthly_columns():
    """The columns of the monthly table, in order (one per figure; the header row of monthly.csv)."""
    return ["month", "area_requests", *(f"type_{key}" for key in INCIDENT_TYPE_KEYS),
            *(f"radius_{key}" for key in RADIUS_KEYS), *(f"window_{key}" for key in WINDOW_KEYS),
            "needed_supervisor_approval", "rejected_by_supervisor", "owners_asked", "approved", "declined",
            "no_answer", "median_seconds_to_first_answer", "footage_received", "live_sessions", "live_minutes",
            *(f"live_{part}_{rule}" for rule in LIVE_RULE_LABELS for part in ("sessions", "minutes")),
            "cad_events"]


def monthly_row(month):
    """One month (or the totals) as a flat row matching monthly_columns()."""
    area, live = month["area_requests"], month["live_sessions"]
    median = month["median_seconds_to_first_answer"]
    return [month["month"], area["total"], *area["by_incident_type"].values(), *area["by_radius"].values(),
            *area["by_window"].values(), month["needed_supervisor_approval"], month["rejected_by_supervisor"],
            month["owners_asked"], month["approved"], month["declined"], month["no_answer"],
            "" if median is None else median, month["footage_received"], live["total"], live["minutes"],
            *(live["by_rule"][rule][part] for rule in LIVE_RULE_LABELS for part in ("sessions", "minutes")),
            month["cad_events"]]


def monthly_table(report):
    return [monthly_columns(), *(monthly_row(month) for month in report["monthly"]), monthly_row(report["totals"])]


def map_table(report):
    columns = ["south", "west", "north", "east", "centre_lat", "centre_lng", "cameras"]
    return [columns, *([cell[name] for name in columns] for cell in report["map"]["cells"])]


def summary_table(report):
    """Program size, the map's rules and the audit chain's head, as (figure, value) rows."""
    program, grid, head = report["program"], report["map"], report["audit_head"]
    return [["figure", "value"], ["generated_at", report["generated_at"]], ["time_zone", report["time_zone"]],
            *([name, value] for name, value in program.items()),
            ["map_cell_size_m", grid["cell_size_m"]], ["map_min_cameras_per_cell", grid["min_cameras"]],
            ["map_cameras_not_shown", grid["cameras_not_shown"]], ["audit_events", head["events"]],
            ["audit_last_id", "" if head["last_id"] is None else head["last_id"]], ["audit_head_hash", head["hash"]]]
