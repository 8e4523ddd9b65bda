"""The live-access policy: the only code that decides whether a viewer may watch a camera live.

`evaluate_live_access` is pure: it reads the camera (with its rules and the owner facts that
`Camera.objects.with_policy_facts()` annotates), the viewer's permissions, the time and the
incident, and returns a Decision. It writes nothing; `cameras.services.live_access_check` calls
it and records every decision in the audit log.
"""

import math
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from cameras.geo import haversine_m

VIEW_LIVE_PERMISSION = "cameras.view_live"
# The kinds of incident that can open "during an alarm or 911 event" access.
EMERGENCY_KINDS = frozenset({"alarm", "911"})


@dataclass(frozen=True)
class Decision:
    allowed: bool
    code: str
    reason: str
    # The numbers the reason gives ({"radius_m": 200, "distance_m": 239}), kept with the code in the audit log.
    figures: dict = field(default_factory=dict)

    def __bool__(self):
        return self.allowed


# Every decision's reason in plain words, by code; the audit log stores the code.
REASONS = {
    "not_signed_in": _("Only signed-in staff can watch live video."),
    "no_permission": _("Your role does not include watching live video."),
    "not_integrated": _("The owner registered this camera for footage requests only."),
    "owner_unverified": _("The owner's account is not active and verified."),
    "waiver_not_current": _("The owner has not signed the current program agreement."),
    "paused": _("The owner has paused sharing."),
    "live_never": _("The owner does not allow live viewing."),
    "always": _("The owner allows live viewing at any time."),
    "schedule": _("Within the owner's live-viewing schedule."),
    "outside_schedule": _("Outside the owner's live-viewing schedule."),
    "incident_nearby": _("An alarm or 911 event is active within the owner's distance."),
    "no_qualifying_incident": _(
        "Live viewing only during an alarm or 911 event near the camera, and none is active."
    ),
    "incident_out_of_range": _(
        "Live viewing only during an alarm or 911 event near the camera, and the active one is farther away."
    ),
    "unknown_rule": _("The camera's rules are not understood; access refused."),
}
# The same reasons with their figures, when the decision has them: (code, figures needed, text).
REASONS_WITH_FIGURES = [
    ("incident_out_of_range", {"radius_m", "distance_m"}, _(
        "The owner allows live viewing during an alarm or 911 event within %(radius_m)s m; the active event is "
        "%(distance_m)s m away.")),
    ("incident_out_of_range", {"radius_m"}, _(
        "The owner allows live viewing during an alarm or 911 event within %(radius_m)s m; the active event is "
        "farther away.")),
    ("no_qualifying_incident", {"radius_m"}, _(
        "The owner allows live viewing during an alarm or 911 event within %(radius_m)s m; none is active.")),
]


def explain(code, figures=None):
    """A decision's reason in the reader's language, with its figures when they are known."""
    figures = figures or {}
    for candidate, needed, text in REASONS_WITH_FIGURES:
        if candidate == code and needed <= figures.keys():
            return str(text) % figures
    return str(REASONS.get(code, code))


def _deny(code, figures=None):
    return Decision(False, code, explain(code, figures), figures or {})


def _allow(code):
    return Decision(True, code, str(REASONS[code]))


def evaluate_live_access(camera, viewer, at, incident=None):
    """May `viewer` watch `camera` live at `at` (aware datetime), for `incident` (or None)?

    `incident`, when given, has `kind` (e.g. "alarm", "911", "burglary"), `latitude`,
    `longitude`, `occurred_at` and optionally `status` (a "closed" incident opens nothing).
    """
    if viewer is None or not viewer.is_authenticated or not viewer.is_active:
        return _deny("not_signed_in")
    if not viewer.is_staff or not viewer.has_perm(VIEW_LIVE_PERMISSION):
        return _deny("no_permission")
    if not camera.is_integrated:
        return _deny("not_integrated")
    owner = camera.owner
    if not owner.is_active or not camera.owner_email_verified:
        return _deny("owner_unverified")
    if not camera.owner_waiver_current:
        return _deny("waiver_not_current")
    rules = camera.rules
    if rules.is_paused(at):
        return _deny("paused")
    if rules.live_mode == rules.LiveMode.NEVER:
        return _deny("live_never")
    if rules.live_mode == rules.LiveMode.ALWAYS:
        return _allow("always")
    if rules.live_mode == rules.LiveMode.SCHEDULE:
        if in_schedule(rules.schedule, at):
            return _allow("schedule")
        return _deny("outside_schedule")
    if rules.live_mode == rules.LiveMode.INCIDENT:
        if incident_qualifies(rules, camera, incident, at):
            return _allow("incident_nearby")
        return _incident_refusal(rules, camera, incident, at)
    return _deny("unknown_rule")


def incident_qualifies(rules, camera, incident, at):
    return incident_active(rules, incident, at) and _distance_m(camera, incident) <= rules.incident_radius_m


def incident_active(rules, incident, at):
    """Is `incident` an open alarm or 911 event, within the owner's minutes of it at `at`?"""
    if incident is None or getattr(incident, "kind", None) not in EMERGENCY_KINDS:
        return False
    if getattr(incident, "status", "open") == "closed":  # dispatch closed the call: the event is over
        return False
    started = incident.occurred_at
    return started <= at < started + timedelta(minutes=rules.incident_minutes)


def _distance_m(camera, incident):
    return haversine_m(camera.latitude, camera.longitude, incident.latitude, incident.longitude)


def _incident_refusal(rules, camera, incident, at):
    """No alarm or 911 event is active at all, or one is, beyond the owner's radius (and how far)."""
    figures = {"radius_m": rules.incident_radius_m}
    if not incident_active(rules, incident, at):
        return _deny("no_qualifying_incident", figures)
    # For a camera shown approximately, its distance from a known place would narrow down where it is.
    if rules.location_precision != rules.Precision.APPROXIMATE:
        distance = _distance_m(camera, incident)
        # Whole metres, but never rounded down to the radius it exceeds.
        figures["distance_m"] = round(distance) if round(distance) > rules.incident_radius_m else math.ceil(distance)
    return _deny("incident_out_of_range", figures)


def access_ends_at(camera, at, incident=None, zone=None):
    """When the access the owner's rules give at `at` ends: an aware datetime, or None.

    None means no set end: "always", or no access to end (never, paused, outside the schedule, no
    qualifying incident). A schedule window ends at its local end time in the city's time zone,
    the next day for windows across midnight; touching or overlapping windows count as one. An
    alarm or 911 event's access ends `incident_minutes` after it occurred. Pure, like the policy.
    """
    rules = camera.rules
    if rules.live_mode == rules.LiveMode.SCHEDULE:
        return schedule_window_end(rules.schedule, at, zone)
    if rules.live_mode == rules.LiveMode.INCIDENT and incident_qualifies(rules, camera, incident, at):
        return incident.occurred_at + timedelta(minutes=rules.incident_minutes)
    return None


def schedule_window_end(schedule, at, zone=None):
    """The end of the weekly window holding `at` (following adjoining windows), or None outside."""
    zone = zone or ZoneInfo(settings.TIME_ZONE)
    end = None
    moment = at.astimezone(zone)
    # A week of windows that all touch never ends; eight days bounds the walk.
    for _step in range(8 * 24):
        found = _latest_end_containing(schedule, moment, zone)
        if found is None or (end is not None and found <= end):
            break
        end = moment = found
    return end


def _latest_end_containing(schedule, local, zone):
    """The latest end of the windows open at `local` (aware, in zone), or None."""
    latest = None
    for window in schedule:
        start, end = parse_clock(window["start"]), parse_clock(window["end"])
        for days_back in (0, 1):
            date = (local - timedelta(days=days_back)).date()
            if date.weekday() not in window["days"]:
                continue
            opens = datetime.combine(date, start, tzinfo=zone)
            closes = datetime.combine(date + timedelta(days=0 if end > start else 1), end, tzinfo=zone)
            if opens <= local < closes and (latest is None or closes > latest):
                latest = closes
    return latest


def parse_clock(text):
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def in_schedule(schedule, at, zone=None):
    """Is `at` inside one of the weekly windows, read in the city's time zone?

    A window {"days": [0..6], "start": "HH:MM", "end": "HH:MM"} opens on each listed day
    (0 = Monday) at start; an end at or before the start closes the next day.
    """
    local = at.astimezone(zone or ZoneInfo(settings.TIME_ZONE))
    weekday, clock = local.weekday(), local.time().replace(tzinfo=None)
    for window in schedule:
        start, end = parse_clock(window["start"]), parse_clock(window["end"])
        for day in window["days"]:
            if end > start:
                if weekday == day and start <= clock < end:
                    return True
            elif (weekday == day and clock >= start) or (weekday == (day + 1) % 7 and clock < end):
                return True
    return False


def describe_schedule(schedule):
    """Plain words: "Mon–Fri 18:00–07:00; Sat, Sun 00:00–24:00"."""
    parts = []
    for window in schedule:
        parts.append(f"{describe_days(window['days'])} {window['start']}–{window['end']}")
    return "; ".join(parts)


DAY_NAMES = [_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")]


def describe_days(days):
    days = sorted(set(days))
    if days == list(range(7)):
        return str(_("every day"))
    if days == [0, 1, 2, 3, 4]:
        return str(_("weekdays"))
    if days == [5, 6]:
        return str(_("weekends"))
    return ", ".join(str(DAY_NAMES[day]) for day in days)


