"""Writes for incidents."""

import hashlib
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents import cad
from incidents.models import Incident, IntegrationKey
from incidents.realtime import incident_alert_data, publish_incident_event
from portal.audit import audit_record
from portal.models import User

INCIDENT_FIELDS = ["incident_type", "priority", "case_number", "latitude", "longitude", "address", "description",
                   "window_start", "window_end"]


def _validate(fields):
    if fields["window_end"] <= fields["window_start"]:
        raise ValidationError({"window_end": _("The incident's time window must end after it starts.")})


@transaction.atomic
def incident_create(*, created_by, assigned_officers=(), source=Incident.Source.STAFF, external_id="",
                    ip_address=None, audit_details=None, **fields):
    """Open an incident; its reference is the year and a running number (2026-000123).

    `audit_details` adds to the audit entry (e.g. which integration key posted a CAD event).
    """
    _validate(fields)
    incident = Incident(created_by=created_by, source=source, external_id=external_id,
                        reference=f"new-{uuid.uuid4().hex[:12]}", **fields)
    incident.full_clean(exclude=["reference"])
    incident.save()
    incident.reference = f"{timezone.localtime(incident.created_at).year}-{incident.pk:06d}"
    incident.save(update_fields=["reference"])
    incident.assigned_officers.set(assigned_officers)
    audit_record(action="incident.created", actor=created_by, target=f"incident:{incident.pk}",
                 incident_reference=incident.reference, ip_address=ip_address,
                 details={"type": incident.incident_type, "source": source, **(audit_details or {})})
    publish_incident_event(incident, "incident_opened", **incident_alert_data(incident))
    return incident


@transaction.atomic
def incident_update(*, incident, actor, assigned_officers=None, ip_address=None, audit_details=None, **fields):
    merged = {name: fields.get(name, getattr(incident, name)) for name in INCIDENT_FIELDS}
    _validate(merged)
    for name, value in fields.items():
        if name not in INCIDENT_FIELDS + ["status"]:
            raise TypeError(f"incident_update() got an unexpected field {name!r}")
        setattr(incident, name, value)
    if incident.status == Incident.Status.CLOSED and incident.closed_at is None:
        incident.closed_at = timezone.now()
    incident.full_clean()
    incident.save()
    if assigned_officers is not None:
        incident.assigned_officers.set(assigned_officers)
    audit_record(action="incident.changed", actor=actor, target=f"incident:{incident.pk}",
                 incident_reference=incident.reference, ip_address=ip_address, details=audit_details)
    publish_incident_event(incident, "incident_updated", **incident_alert_data(incident))
    return incident


# --- Integration keys (CAD, alarm and AVL systems) ---------------------------------------------

KEY_PREFIX = "ccp_"
# The visible part: "ccp_" and the first 8 characters of the random part.
VISIBLE_PREFIX_LENGTH = len(KEY_PREFIX) + 8
# Writing last_used on every request would turn each read of a key into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def integration_key_hash(raw_key):
    return hashlib.sha256(raw_key.encode()).hexdigest()


@transaction.atomic
def integration_key_create(*, name, kind, created_by=None, ip_address=None):
    """Create a key and return (key, raw_key). The raw key is not stored: show it once."""
    raw_key = KEY_PREFIX + secrets.token_urlsafe(32)  # 32 random bytes
    key = IntegrationKey(name=name, kind=kind, created_by=created_by, prefix=raw_key[:VISIBLE_PREFIX_LENGTH],
                         key_hash=integration_key_hash(raw_key))
    key.full_clean()
    key.save()
    audit_record(action="integration_key.created", actor=created_by, target=f"integration_key:{key.pk}",
                 ip_address=ip_address, details={"name": key.name, "kind": key.kind, "prefix": key.prefix})
    return key, raw_key


@transaction.atomic
def integration_key_revoke(*, key, actor=None, ip_address=None):
    """Revoke a key at once; revoking twice changes nothing."""
    if key.revoked_at is not None:
        return key
    key.revoked_at = timezone.now()
    key.save(update_fields=["revoked_at"])
    audit_record(action="integration_key.revoked", actor=actor, target=f"integration_key:{key.pk}",
                 ip_address=ip_address, details={"name": key.name, "kind": key.kind, "prefix": key.prefix})
    return key


def integration_key_for(raw_key):
    """The unrevoked key with this value, or None."""
    if not raw_key:
        return None
    return IntegrationKey.objects.active().filter(key_hash=integration_key_hash(raw_key)).first()


def integration_key_touch(*, key, ip_address=None, now=None):
    """Record the key's use, at most once a minute (one UPDATE, no audit entry)."""
    now = now or timezone.now()
    if key.last_used_at is not None and now - key.last_used_at < LAST_USED_RESOLUTION:
        return
    IntegrationKey.objects.filter(pk=key.pk).update(last_used_at=now, last_used_ip=ip_address)
    key.last_used_at, key.last_used_ip = now, ip_address


# --- CAD and alarm events -----------------------------------------------------------------------

@dataclass
class CadResult:
    incident: Incident
    created: bool
    unknown_units: list = field(default_factory=list)


def _officers_with_badges(badges):
    """(staff with these badge numbers, badges nobody active on staff carries)."""
    wanted = list(dict.fromkeys(badge.strip() for badge in badges if badge.strip()))
    officers = list(User.objects.filter(is_staff=True, is_active=True, badge_number__in=wanted))
    known = {officer.badge_number for officer in officers}
    return officers, [badge for badge in wanted if badge not in known]


def cad_event_receive(*, key, external_id, event_type, latitude, longitude, priority=None, address=None,
                      occurred_at=None, description=None, status=None, units=None, ip_address=None):
    """Open or update the incident for one CAD or alarm event; the same external id always maps to one incident.

    On an update, the optional fields left as None keep their value. Two posts of a new id racing
    each other both succeed: the loser of the insert finds the winner's incident and updates it.
    """
    source = key.incident_source
    if source is None:
        raise ValueError(f"A {key.kind} key cannot post CAD events.")
    event = {"external_id": external_id, "event_type": event_type, "latitude": latitude, "longitude": longitude,
             "priority": priority, "address": address, "occurred_at": occurred_at, "description": description,
             "status": status, "units": units}
    for attempt in range(2):
        try:
            return _cad_event_apply(key=key, source=source, ip_address=ip_address, **event)
        except (IntegrityError, ValidationError):
            # Either a real error, or another request created this incident since we looked.
            created_meanwhile = Incident.objects.filter(source=source, external_id=external_id).exists()
            if attempt or not created_meanwhile:
                raise
    raise AssertionError("unreachable")


@transaction.atomic
def _cad_event_apply(*, key, source, external_id, event_type, latitude, longitude, priority, address, occurred_at,
                     description, status, units, ip_address):
    now = timezone.now()
    window = timedelta(minutes=settings.CAD_INCIDENT_WINDOW_MINUTES)
    officers, unknown_units = _officers_with_badges(units) if units is not None else (None, [])
    audit_details = {"integration_key": key.name, "key_prefix": key.prefix, "external_id": external_id,
                     "event_type": event_type[:100]}
    incident = Incident.objects.select_for_update().filter(source=source, external_id=external_id).first()
    if incident is None:
        started = occurred_at or now
        incident = incident_create(
            created_by=None, source=source, external_id=external_id, assigned_officers=officers or (),
            ip_address=ip_address, audit_details=audit_details, incident_type=cad.incident_type_for(event_type),
            priority=priority or Incident.Priority.URGENT, latitude=latitude, longitude=longitude,
            address=address or "", description=cad.description_for(event_type, description or ""),
            window_start=started, window_end=started + window,
        )
        if status == Incident.Status.CLOSED:
            incident = incident_update(incident=incident, actor=None, status=status, ip_address=ip_address,
                                       audit_details=audit_details)
        return CadResult(incident, True, unknown_units)
    fields = {"incident_type": cad.incident_type_for(event_type), "latitude": latitude, "longitude": longitude}
    if priority is not None:
        fields["priority"] = priority
    if address is not None:
        fields["address"] = address
    if description is not None:
        fields["description"] = cad.description_for(event_type, description)
    if status is not None:
        fields["status"] = status
    # An update keeps the incident's window open: from the earliest time reported until a
    # window's length after the latest word from the CAD (a closing event extends nothing).
    fields["window_start"] = min(incident.window_start, occurred_at) if occurred_at else incident.window_start
    if status == Incident.Status.CLOSED:
        fields["window_end"] = max(incident.window_end, fields["window_start"] + window)
    else:
        fields["window_end"] = max(incident.window_end, max(occurred_at or now, now) + window)
    incident = incident_update(incident=incident, actor=None, assigned_officers=officers, ip_address=ip_address,
                               audit_details=audit_details, **fields)
    return CadResult(incident, False, unknown_units)
