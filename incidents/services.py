"""Writes for incidents."""

import uuid

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.models import Incident
from incidents.realtime import incident_alert_data, publish_incident_event
from portal.audit import audit_record

INCIDENT_FIELDS = ["incident_type", "priority", "case_number", "latitude", "longitude", "address", "description",
                   "window_start", "window_end"]


def _validate(fields):
    if fields["window_end"] <= fields["window_start"]:
        raise ValidationError({"window_end": _("The incident's time window must end after it starts.")})


@transaction.atomic
def incident_create(*, created_by, assigned_officers=(), source=Incident.Source.STAFF, external_id="",
                    ip_address=None, **fields):
    """Open an incident; its reference is the year and a running number (2026-000123)."""
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
                 details={"type": incident.incident_type, "source": source})
    publish_incident_event(incident, "incident_opened", **incident_alert_data(incident))
    return incident


@transaction.atomic
def incident_update(*, incident, actor, assigned_officers=None, ip_address=None, **fields):
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
                 incident_reference=incident.reference, ip_address=ip_address)
    publish_incident_event(incident, "incident_updated", **incident_alert_data(incident))
    return incident
