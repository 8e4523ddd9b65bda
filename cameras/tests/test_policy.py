"""The live-access policy: a table of every rule, then properties checked by hypothesis."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cameras.geo import haversine_m
from cameras.models import Camera, SharingRules
from cameras.policy import EMERGENCY_KINDS, evaluate_live_access, explain, in_schedule
from cameras.tests.factories import CameraFactory
from portal.tests.factories import OwnerFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)  # a Wednesday, 10:00 in New York
WEEKDAY_EVENINGS = [{"days": [0, 1, 2, 3, 4], "start": "18:00", "end": "07:00"}]
LAT, LNG = 40.7128, -74.0060


@dataclass
class Incident:
    kind: str
    latitude: float
    longitude: float
    occurred_at: datetime
    reference: str = "2026-000001"


def camera(*, access_level=Camera.AccessLevel.INTEGRATED, verified=True, waiver=True, active=True, **rules):
    """An unsaved camera with the owner facts the policy reads: the policy touches no database."""
    built = CameraFactory.build(owner=OwnerFactory.build(is_active=active), access_level=access_level,
                                latitude=LAT, longitude=LNG, rules=rules)
    built.owner_email_verified, built.owner_waiver_current = verified, waiver
    return built


def alarm(metres_north=0, minutes_ago=5, kind="alarm"):
    return Incident(kind, LAT + metres_north / 111_195, LNG, NOW - timedelta(minutes=minutes_ago))


ALWAYS = {"live_mode": SharingRules.LiveMode.ALWAYS}
ON_INCIDENT = {"live_mode": SharingRules.LiveMode.INCIDENT, "incident_radius_m": 200, "incident_minutes": 30}

TABLE = [
    # (description, camera kwargs, viewer, incident, allowed, code)
    ("anonymous viewer", ALWAYS, None, None, False, "not_signed_in"),
    ("an owner is not staff", ALWAYS, "resident", None, False, "no_permission"),
    ("oversight cannot watch live", ALWAYS, "oversight", None, False, "no_permission"),
    ("registered cameras are never live", {"access_level": Camera.AccessLevel.REGISTERED}, "operator", None, False,
     "not_integrated"),
    ("unverified owner", {**ALWAYS, "verified": False}, "operator", None, False, "owner_unverified"),
    ("inactive owner", {**ALWAYS, "active": False}, "operator", None, False, "owner_unverified"),
    ("owner has not signed the current waiver", {**ALWAYS, "waiver": False}, "operator", None, False,
     "waiver_not_current"),
    ("paused", {**ALWAYS, "paused_until": NOW + timedelta(hours=1)}, "operator", None, False, "paused"),
    ("a pause that has ended", {**ALWAYS, "paused_until": NOW - timedelta(seconds=1)}, "operator", None, True,
     "always"),
    ("never", {"live_mode": SharingRules.LiveMode.NEVER}, "operator", alarm(), False, "live_never"),
    ("always, operator", ALWAYS, "operator", None, True, "always"),
    ("always, officer", ALWAYS, "officer", None, True, "always"),
    ("schedule, outside the window", {"live_mode": "schedule", "schedule": WEEKDAY_EVENINGS}, "operator", None,
     False, "outside_schedule"),
    ("incident mode without an incident", ON_INCIDENT, "operator", None, False, "no_qualifying_incident"),
    ("incident mode, alarm nearby", ON_INCIDENT, "operator", alarm(150), True, "incident_nearby"),
    ("incident mode, 911 call nearby", ON_INCIDENT, "operator", alarm(150, kind="911"), True, "incident_nearby"),
    ("incident mode, alarm too far", ON_INCIDENT, "operator", alarm(250), False, "incident_out_of_range"),
    ("incident mode, 911 call too far", ON_INCIDENT, "operator", alarm(250, kind="911"), False,
     "incident_out_of_range"),
    ("incident mode, alarm just outside", ON_INCIDENT, "operator", alarm(200.5), False, "incident_out_of_range"),
    ("incident mode, alarm on the edge", ON_INCIDENT, "operator", alarm(199.5), True, "incident_nearby"),
    ("incident mode, alarm over", ON_INCIDENT, "operator", alarm(minutes_ago=31), False, "no_qualifying_incident"),
    ("incident mode, alarm too far and over", ON_INCIDENT, "operator", alarm(250, minutes_ago=31), False,
     "no_qualifying_incident"),
    ("incident mode, a burglary report too far", ON_INCIDENT, "operator", alarm(250, kind="burglary"), False,
     "no_qualifying_incident"),
    ("incident mode, alarm not yet", ON_INCIDENT, "operator", alarm(minutes_ago=-1), False,
     "no_qualifying_incident"),
    ("incident mode, a burglary report is not an alarm", ON_INCIDENT, "operator", alarm(kind="burglary"), False,
     "no_qualifying_incident"),
]


@pytest.mark.parametrize(("description", "camera_kwargs", "viewer", "incident", "allowed", "code"), TABLE,
                         ids=[row[0] for row in TABLE])
def test_policy_table(request, description, camera_kwargs, viewer, incident, allowed, code):
    viewer_user = request.getfixturevalue(viewer) if viewer else None

    decision = evaluate_live_access(camera(**camera_kwargs), viewer_user, NOW, incident)

    assert (decision.allowed, decision.code) == (allowed, code)
    assert decision.reason


def test_every_decision_explains_itself_in_words(operator):
    decision = evaluate_live_access(camera(live_mode="never"), operator, NOW)

    assert decision.reason == "The owner does not allow live viewing."


APPROXIMATE = {**ON_INCIDENT, "location_precision": SharingRules.Precision.APPROXIMATE}
WITHIN_200 = "The owner allows live viewing during an alarm or 911 event within 200 m"
REASON_TABLE = [
    # (description, camera kwargs, incident, reason, figures)
    ("no event at all", ON_INCIDENT, None, f"{WITHIN_200}; none is active.", {"radius_m": 200}),
    ("an event that is over", ON_INCIDENT, alarm(150, minutes_ago=31), f"{WITHIN_200}; none is active.",
     {"radius_m": 200}),
    ("an event too far", ON_INCIDENT, alarm(239), f"{WITHIN_200}; the active event is 239 m away.",
     {"radius_m": 200, "distance_m": 239}),
    ("an event too far by less than a metre", ON_INCIDENT, alarm(200.3),
     f"{WITHIN_200}; the active event is 201 m away.", {"radius_m": 200, "distance_m": 201}),
    # The distance to a known place would narrow down where a camera shown approximately is.
    ("an approximate camera's event too far", APPROXIMATE, alarm(239), f"{WITHIN_200}; the active event is "
     "farther away.", {"radius_m": 200}),
]


@pytest.mark.parametrize(("description", "camera_kwargs", "incident", "reason", "figures"), REASON_TABLE,
                         ids=[row[0] for row in REASON_TABLE])
def test_incident_mode_says_whether_an_event_is_active_and_how_far(operator, description, camera_kwargs, incident,
                                                                     reason, figures):
    decision = evaluate_live_access(camera(**camera_kwargs), operator, NOW, incident)

    assert (decision.allowed, decision.reason, decision.figures) == (False, reason, figures)
    assert explain(decision.code, decision.figures) == reason


# --- Schedules, in the city's time zone (America/New_York) ------------------------------------

def local(year, month, day, hour, minute=0):
    """A New York wall-clock time as UTC (EST is UTC-5, EDT UTC-4)."""
    from zoneinfo import ZoneInfo

    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo("America/New_York")).astimezone(UTC)


@pytest.mark.parametrize(("at", "inside"), [
    (local(2026, 11, 16, 17, 59), False),   # Monday 17:59
    (local(2026, 11, 16, 18, 0), True),     # Monday 18:00: a window includes its start
    (local(2026, 11, 17, 6, 59), True),     # Tuesday 06:59, the night from Monday
    (local(2026, 11, 17, 7, 0), False),     # Tuesday 07:00: a window excludes its end
    (local(2026, 11, 21, 6, 0), True),      # Saturday 06:00, the night from Friday
    (local(2026, 11, 21, 18, 0), False),    # Saturday evening: not a weekday
    (local(2026, 11, 16, 6, 0), False),     # Monday 06:00 follows Sunday, not in the list
])
def test_weekday_evening_windows_run_overnight(at, inside):
    assert in_schedule(WEEKDAY_EVENINGS, at) is inside


@pytest.mark.parametrize(("at", "inside"), [
    (local(2026, 3, 2, 18, 30), True),    # Monday before the spring change (EST)
    (local(2026, 3, 9, 18, 30), True),    # Monday after it (EDT): same wall-clock time
    (local(2026, 3, 9, 17, 30), False),
    (datetime(2026, 3, 9, 22, 30, tzinfo=UTC), True),   # 18:30 EDT
    (datetime(2026, 3, 2, 22, 30, tzinfo=UTC), False),  # 17:30 EST
    (local(2026, 11, 2, 18, 30), True),   # Monday after the autumn change (EST again)
])
def test_schedules_follow_local_time_across_daylight_saving_changes(at, inside):
    assert in_schedule([{"days": [0], "start": "18:00", "end": "23:00"}], at) is inside


def test_a_window_through_the_spring_gap_still_closes_at_its_end():
    window = [{"days": [6], "start": "01:00", "end": "04:00"}]  # Sunday 8 March 2026 loses 02:00-03:00

    assert in_schedule(window, datetime(2026, 3, 8, 6, 59, tzinfo=UTC))      # 01:59 EST
    assert in_schedule(window, datetime(2026, 3, 8, 7, 0, tzinfo=UTC))       # 03:00 EDT
    assert not in_schedule(window, datetime(2026, 3, 8, 8, 0, tzinfo=UTC))   # 04:00 EDT


def test_schedule_mode_allows_inside_the_window(operator):
    decision = evaluate_live_access(camera(live_mode="schedule", schedule=WEEKDAY_EVENINGS), operator,
                                    local(2026, 11, 18, 22, 0))

    assert (decision.allowed, decision.code) == (True, "schedule")


# --- Properties --------------------------------------------------------------------------------

moments = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC))
modes = st.sampled_from(SharingRules.LiveMode.values)
clock = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.integers(0, 59))
windows = st.lists(st.fixed_dictionaries({"days": st.lists(st.integers(0, 6), min_size=1, unique=True),
                                          "start": clock, "end": clock}).filter(lambda w: w["start"] != w["end"]),
                   min_size=1, max_size=3)
incidents = st.one_of(st.none(), st.builds(
    Incident, kind=st.sampled_from(["alarm", "911", "burglary"]),
    latitude=st.floats(LAT - 0.01, LAT + 0.01), longitude=st.floats(LNG - 0.01, LNG + 0.01),
    occurred_at=moments,
))
property_settings = settings(max_examples=300, deadline=None,
                             suppress_health_check=[HealthCheck.function_scoped_fixture])


@property_settings
@given(at=moments, mode=modes, schedule=windows, incident=incidents, pause_minutes=st.integers(1, 10_000))
def test_a_paused_camera_is_never_allowed(operator, at, mode, schedule, incident, pause_minutes):
    paused = camera(live_mode=mode, schedule=schedule, paused_until=at + timedelta(minutes=pause_minutes))

    assert not evaluate_live_access(paused, operator, at, incident).allowed


@property_settings
@given(at=moments, incident=incidents)
def test_never_mode_is_never_allowed_whatever_the_incident(operator, at, incident):
    assert not evaluate_live_access(camera(live_mode="never"), operator, at, incident).allowed


@property_settings
@given(at=moments, mode=modes, schedule=windows, incident=incidents)
def test_registered_cameras_and_unsigned_waivers_are_never_allowed(operator, at, mode, schedule, incident):
    registered = camera(access_level=Camera.AccessLevel.REGISTERED, live_mode=mode, schedule=schedule)
    unsigned = camera(waiver=False, live_mode=mode, schedule=schedule)

    assert not evaluate_live_access(registered, operator, at, incident).allowed
    assert not evaluate_live_access(unsigned, operator, at, incident).allowed


@property_settings
@given(at=moments, mode=modes, schedule=windows, incident=incidents)
def test_viewers_without_the_live_permission_are_never_allowed(oversight, resident, at, mode, schedule, incident):
    subject = camera(live_mode=mode, schedule=schedule)

    assert not evaluate_live_access(subject, oversight, at, incident).allowed
    assert not evaluate_live_access(subject, resident, at, incident).allowed


@property_settings
@given(at=moments, incident=incidents, radius=st.integers(10, 5000))
def test_incident_mode_blames_the_distance_only_for_an_active_event_beyond_the_radius(operator, at, incident,
                                                                                      radius):
    decision = evaluate_live_access(camera(**{**ON_INCIDENT, "incident_radius_m": radius}), operator, at, incident)

    active = (incident is not None and incident.kind in EMERGENCY_KINDS
              and incident.occurred_at <= at < incident.occurred_at + timedelta(minutes=30))
    beyond = incident is not None and haversine_m(LAT, LNG, incident.latitude, incident.longitude) > radius
    assert decision.allowed is (active and not beyond)
    assert (decision.code == "incident_out_of_range") is (active and beyond)
    if decision.code == "incident_out_of_range":
        assert decision.figures["distance_m"] > radius


@property_settings
@given(at=moments, schedule=windows)
def test_schedule_mode_allows_exactly_when_the_time_is_in_a_window(operator, at, schedule):
    decision = evaluate_live_access(camera(live_mode="schedule", schedule=schedule), operator, at)

    assert decision.allowed is in_schedule(schedule, at)


@settings(max_examples=300, deadline=None)
@given(start=clock, end=clock, at=moments)
def test_a_window_includes_its_start_and_excludes_its_end(start, end, at):
    from zoneinfo import ZoneInfo

    if start == end:
        return
    zone = ZoneInfo("America/New_York")
    local_day = at.astimezone(zone).date()
    start_at = datetime.combine(local_day, datetime.strptime(start, "%H:%M").time(), tzinfo=zone)
    window = [{"days": [start_at.weekday()], "start": start, "end": end}]
    # Skip wall-clock times that do not exist (the spring gap): zoneinfo shifts them.
    if start_at.astimezone(UTC).astimezone(zone).strftime("%H:%M") != start:
        return
    assert in_schedule(window, start_at.astimezone(UTC))
    end_day = local_day if end > start else local_day + timedelta(days=1)
    end_at = datetime.combine(end_day, datetime.strptime(end, "%H:%M").time(), tzinfo=zone)
    if end_at.astimezone(UTC).astimezone(zone).strftime("%H:%M") == end:
        assert not in_schedule(window, end_at.astimezone(UTC))
