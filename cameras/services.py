"""Writes for cameras, sharing rules and stream sources. Every change is audited."""

import re
from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cameras import crypto
from cameras.models import Camera, SharingRules, StreamSource
from cameras.policy import evaluate_live_access
from portal.audit import audit_record
from portal.models import AuditEvent

# "Pause now" pauses until the owner resumes: a date no one reaches.
PAUSED_UNTIL_RESUMED = datetime(9999, 12, 31, tzinfo=UTC)
# A pause ending before this is a typo (and before 1883 the city's clock has no standard offset to show it in).
PAUSED_UNTIL_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
CAMERA_FIELDS = ["name", "address", "site_kind", "coverage", "direction_degrees", "access_level"]
RULE_FIELDS = ["live_mode", "schedule", "incident_radius_m", "incident_minutes", "accept_requests",
               "paused_until", "notify_on_live_view", "location_precision"]


def validate_location(latitude, longitude):
    errors = {}
    if latitude is None or not -90 <= latitude <= 90:
        errors["latitude"] = _("Latitude must be between -90 and 90. Click the map to place the camera.")
    if longitude is None or not -180 <= longitude <= 180:
        errors["longitude"] = _("Longitude must be between -180 and 180. Click the map to place the camera.")
    if errors:
        raise ValidationError(errors)


def validate_coverage(coverage):
    unknown = sorted(set(coverage) - set(Camera.Coverage.values))
    if unknown:
        raise ValidationError({"coverage": _("Unknown coverage: %(items)s.") % {"items": ", ".join(unknown)}})
    return sorted(set(coverage), key=Camera.Coverage.values.index)


def validate_schedule(schedule):
    """Return the schedule in its stored form, or raise ValidationError saying what is wrong."""
    if not isinstance(schedule, list) or not schedule:
        raise ValidationError({"schedule": _("Add at least one weekly window (days, from, to).")})
    cleaned = []
    for window in schedule:
        days = window.get("days") if isinstance(window, dict) else None
        if not days or not all(isinstance(day, int) and 0 <= day <= 6 for day in days):
            raise ValidationError({"schedule": _("Each window needs one or more days (0 = Monday … 6 = Sunday).")})
        start, end = str(window.get("start", "")), str(window.get("end", ""))
        if not _CLOCK.match(start) or not _CLOCK.match(end):
            raise ValidationError({"schedule": _("Times are written HH:MM, from 00:00 to 23:59.")})
        if start == end:
            raise ValidationError({"schedule": _("A window must start and end at different times.")})
        cleaned.append({"days": sorted(set(days)), "start": start, "end": end})
    return cleaned


def _validate_rules(camera, fields):
    paused_until = fields["paused_until"]
    if paused_until is not None and not PAUSED_UNTIL_EARLIEST <= paused_until <= PAUSED_UNTIL_RESUMED:
        raise ValidationError({"paused_until": _("Pause until a date between 2000 and 9999, or leave it empty.")})
    if fields["live_mode"] != SharingRules.LiveMode.NEVER and not camera.is_integrated:
        raise ValidationError({"live_mode": _("Live access is only possible for integrated cameras. "
                                              "Change the camera's access level first.")})
    if fields["live_mode"] == SharingRules.LiveMode.SCHEDULE:
        fields["schedule"] = validate_schedule(fields["schedule"])
    else:
        fields["schedule"] = []


def _camera_details(camera):
    return {"name": camera.name, "access_level": camera.access_level}


@transaction.atomic
def camera_register(*, owner, name, latitude, longitude, address, site_kind=Camera.SiteKind.HOME, coverage=(),
                    access_level=Camera.AccessLevel.REGISTERED, direction_degrees=None, ip_address=None):
    """Register a camera with the most private rules; the owner loosens them afterwards.

    Left out, the site is a home, the coverage empty and the access level "registered" (the model's defaults).
    """
    validate_location(latitude, longitude)
    camera = Camera(owner=owner, name=name.strip(), address=address.strip(), site_kind=site_kind,
                    coverage=validate_coverage(coverage), access_level=access_level,
                    direction_degrees=direction_degrees)
    camera.set_location(latitude, longitude)
    camera.full_clean()
    camera.save()
    SharingRules.objects.create(camera=camera)
    audit_record(action="camera.registered", actor=owner, camera=camera, target=f"camera:{camera.pk}",
                 ip_address=ip_address, details=_camera_details(camera))
    return camera


@transaction.atomic
def camera_update(*, camera, actor, latitude, longitude, ip_address=None, **fields):
    validate_location(latitude, longitude)
    fields["coverage"] = validate_coverage(fields.get("coverage", camera.coverage))
    for name, value in fields.items():
        if name not in CAMERA_FIELDS:
            raise TypeError(f"camera_update() got an unexpected field {name!r}")
        setattr(camera, name, value.strip() if isinstance(value, str) else value)
    camera.set_location(latitude, longitude)
    camera.full_clean()
    camera.save()
    rules = camera.rules
    if not camera.is_integrated and rules.live_mode != SharingRules.LiveMode.NEVER:
        # Registered cameras cannot be watched live; their live rule falls back to "never".
        rules.live_mode, rules.schedule = SharingRules.LiveMode.NEVER, []
        rules.save(update_fields=["live_mode", "schedule", "updated_at"])
    if not camera.is_integrated:
        StreamSource.objects.filter(camera=camera).delete()
    audit_record(action="camera.changed", actor=actor, camera=camera, target=f"camera:{camera.pk}",
                 ip_address=ip_address, details=_camera_details(camera))
    return camera


@transaction.atomic
def camera_delete(*, camera, actor, ip_address=None):
    """Remove a camera from the program: it leaves every staff view and search at once."""
    audit_record(action="camera.deleted", actor=actor, camera=camera, target=f"camera:{camera.pk}",
                 ip_address=ip_address, details=_camera_details(camera))
    camera.delete()


@transaction.atomic
def sharing_rules_update(*, camera, actor, ip_address=None, **fields):
    """Replace a camera's sharing rules with `fields` (all of RULE_FIELDS)."""
    missing = set(RULE_FIELDS) - set(fields)
    if missing:
        raise TypeError(f"sharing_rules_update() is missing {sorted(missing)}")
    _validate_rules(camera, fields)
    rules = SharingRules.objects.select_for_update().get(camera=camera)
    before = {name: _jsonable(getattr(rules, name)) for name in RULE_FIELDS}
    for name, value in fields.items():
        setattr(rules, name, value)
    rules.full_clean()
    rules.save()
    after = {name: _jsonable(getattr(rules, name)) for name in RULE_FIELDS}
    changed = {name: after[name] for name in RULE_FIELDS if before[name] != after[name]}
    audit_record(action="rules.changed", actor=actor, camera=camera, target=f"camera:{camera.pk}",
                 ip_address=ip_address, details={"changed": changed})
    return rules


def _jsonable(value):
    return value.isoformat() if isinstance(value, datetime) else value


@transaction.atomic
def sharing_rules_apply_to_all(*, source_camera, actor, ip_address=None):
    """Copy one camera's rules to the owner's other cameras; live rules only where integrated.

    Returns how many cameras changed.
    """
    source = source_camera.rules
    count = 0
    for camera in Camera.objects.owned_by(source_camera.owner).exclude(pk=source_camera.pk).select_related("rules"):
        fields = {name: getattr(source, name) for name in RULE_FIELDS}
        if not camera.is_integrated:
            fields["live_mode"], fields["schedule"] = SharingRules.LiveMode.NEVER, []
        sharing_rules_update(camera=camera, actor=actor, ip_address=ip_address, **fields)
        count += 1
    return count


@transaction.atomic
def sharing_pause_all(*, owner, until, ip_address=None):
    """Pause every camera of the owner until `until` (aware datetime), or resume with None."""
    if until is not None and until <= timezone.now():
        raise ValidationError({"paused_until": _("Choose a time in the future.")})
    cameras = list(Camera.objects.owned_by(owner))
    SharingRules.objects.filter(camera__in=cameras).update(paused_until=until, updated_at=timezone.now())
    action = "sharing.paused" if until else "sharing.resumed"
    for camera in cameras:
        audit_record(action=action, actor=owner, camera=camera, target=f"camera:{camera.pk}", ip_address=ip_address,
                     details={"paused_until": until.isoformat() if until else None})
    return len(cameras)


@transaction.atomic
def stream_source_set(*, camera, actor, kind, url, username="", password="", ip_address=None):
    """Store (encrypted) where an integrated camera's picture comes from."""
    if not camera.is_integrated:
        raise ValidationError({"kind": _("Only integrated cameras have a live stream source.")})
    if kind not in StreamSource.Kind.values:
        raise ValidationError({"kind": _("Choose the kind of stream.")})
    source, _created = StreamSource.objects.update_or_create(
        camera=camera,
        defaults={"kind": kind, "encrypted_url": crypto.encrypt(url.strip()),
                  "encrypted_username": crypto.encrypt(username), "encrypted_password": crypto.encrypt(password),
                  "last_tested_at": None, "last_test_ok": None},
    )
    # The audit log records that the source changed, never the address or credentials.
    audit_record(action="stream.changed", actor=actor, camera=camera, target=f"camera:{camera.pk}",
                 ip_address=ip_address, details={"kind": kind})
    return source


def stream_source_test(*, camera, actor, ip_address=None):
    """Fetch one frame from the camera's source, server-side. Returns a StreamTestResult."""
    from cameras.streams import StreamTestError, StreamTestResult, test_stream

    source = camera.stream
    try:
        result = test_stream(source.kind, crypto.decrypt(source.encrypted_url),
                             crypto.decrypt(source.encrypted_username), crypto.decrypt(source.encrypted_password))
    except StreamTestError as error:
        result = StreamTestResult(ok=False, message=str(error), frame_jpeg=None, width=None, height=None)
    source.last_tested_at, source.last_test_ok = timezone.now(), result.ok
    source.save(update_fields=["last_tested_at", "last_test_ok", "updated_at"])
    audit_record(action="stream.tested", actor=actor, camera=camera, target=f"camera:{camera.pk}",
                 ip_address=ip_address, outcome=AuditEvent.Outcome.DONE, details={"ok": result.ok})
    return result


def stream_onvif_discover(*, camera, actor, host, port, username, password, ip_address=None):
    """Ask an integrated camera for its RTSP addresses with ONVIF. Returns (profiles, error message).

    Audited with whether it worked and how many profiles came back, never the address or credentials.
    """
    from cameras.onvif import onvif_discover_stream
    from cameras.streams import StreamTestError

    if not camera.is_integrated:
        raise ValidationError({"host": _("Only integrated cameras have a live stream source.")})
    try:
        profiles, error = onvif_discover_stream(host=host, port=port, username=username, password=password), ""
    except StreamTestError as failure:
        profiles, error = [], failure.message
    audit_record(action="stream.onvif_discovered", actor=actor, camera=camera, target=f"camera:{camera.pk}",
                 ip_address=ip_address, outcome=AuditEvent.Outcome.DONE,
                 details={"ok": not error, "profiles": len(profiles)})
    return profiles, error


@transaction.atomic
def stream_sources_rotate_keys():
    count = 0
    for source in StreamSource.objects.select_for_update():
        source.encrypted_url = crypto.rotate(source.encrypted_url)
        source.encrypted_username = crypto.rotate(source.encrypted_username)
        source.encrypted_password = crypto.rotate(source.encrypted_password)
        source.save(update_fields=["encrypted_url", "encrypted_username", "encrypted_password"])
        count += 1
    return count


def live_access_check(*, camera, viewer, at=None, incident=None, ip_address=None):
    """Ask the policy whether viewer may watch camera live now, and audit the decision."""
    at = at or timezone.now()
    if not hasattr(camera, "owner_waiver_current"):
        camera = Camera.objects.with_policy_facts().get(pk=camera.pk)
    decision = evaluate_live_access(camera, viewer, at, incident)
    audit_record(
        action="live.access", actor=viewer, camera=camera, target=f"camera:{camera.pk}", ip_address=ip_address,
        outcome=AuditEvent.Outcome.ALLOWED if decision.allowed else AuditEvent.Outcome.DENIED,
        incident_reference=getattr(incident, "reference", "") or "",
        details={"code": decision.code, "reason": decision.reason,
                 **({"figures": decision.figures} if decision.figures else {})},
    )
    return decision
