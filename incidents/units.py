"""Writes for unit positions: vehicle locators (AVL) post batches, officers share from their phones."""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from incidents.models import UnitPosition
from incidents.realtime import publish_feed_event

POSITION_FIELDS = ["latitude", "longitude", "accuracy_m", "heading", "speed"]


@dataclass
class BatchResult:
    saved: int
    ignored: int


def unit_moved_data(unit):
    """What the RTCC map shows about a unit (the officer's display name, never contact details)."""
    return {"unit": unit.call_sign, "latitude": unit.latitude, "longitude": unit.longitude, "heading": unit.heading,
            "source": unit.source, "updated_at": unit.updated_at.isoformat(),
            "officer": unit.officer.display_name if unit.officer_id else ""}


def unit_locations_record(*, locations, source=UnitPosition.Source.AVL):
    """Store the latest position of each unit in `locations` (dicts with `unit`, `latitude`,
    `longitude`, `recorded_at` and optional `accuracy_m`, `heading`, `speed`).

    A position older than the one already stored for that unit is ignored, so batches may arrive
    out of order. Returns how many were saved and how many ignored.
    """
    try:
        return _unit_locations_apply(locations=locations, source=source)
    except IntegrityError:
        # Another batch created one of these units meanwhile: the second pass updates it.
        return _unit_locations_apply(locations=locations, source=source)


@transaction.atomic
def _unit_locations_apply(*, locations, source):
    ordered = sorted(locations, key=lambda location: location["recorded_at"])
    call_signs = {location["unit"] for location in ordered}
    # Lock in a fixed order so that two batches touching the same units cannot deadlock.
    units = {unit.call_sign: unit for unit in
             UnitPosition.objects.select_for_update(of=("self",)).select_related("officer")
             .filter(call_sign__in=call_signs).order_by("call_sign")}
    changed, ignored, now = {}, 0, timezone.now()
    for location in ordered:
        unit = units.get(location["unit"])
        if unit is not None and location["recorded_at"] <= unit.recorded_at:
            ignored += 1
            continue
        if unit is None:
            unit = units[location["unit"]] = UnitPosition(call_sign=location["unit"])
        for name in POSITION_FIELDS:
            setattr(unit, name, location.get(name))
        unit.source, unit.recorded_at, unit.updated_at, unit.stopped_at = source, location["recorded_at"], now, None
        changed[unit.call_sign] = unit
    for unit in changed.values():
        unit.full_clean(validate_unique=False)
        unit.save()
        publish_feed_event("unit_moved", **unit_moved_data(unit))
    return BatchResult(saved=len(ordered) - ignored, ignored=ignored)


@transaction.atomic
def unit_location_share(*, officer, latitude, longitude, accuracy_m=None, heading=None):
    """Record a position an officer's phone sent; the unit's call sign is the officer's badge number."""
    now = timezone.now()
    unit, _created = UnitPosition.objects.select_for_update().get_or_create(
        call_sign=officer.badge_number,
        defaults={"latitude": latitude, "longitude": longitude, "source": UnitPosition.Source.PHONE,
                  "recorded_at": now},
    )
    unit.officer, unit.source = officer, UnitPosition.Source.PHONE
    unit.latitude, unit.longitude, unit.accuracy_m, unit.heading, unit.speed = (
        latitude, longitude, accuracy_m, heading, None)
    unit.recorded_at, unit.updated_at, unit.stopped_at = now, now, None
    unit.full_clean(validate_unique=False)
    unit.save()
    publish_feed_event("unit_moved", **unit_moved_data(unit))
    return unit


@transaction.atomic
def unit_location_stop(*, officer):
    """The officer stopped sharing: their phone unit leaves the active map at once."""
    now = timezone.now()
    stopped = UnitPosition.objects.filter(officer=officer, source=UnitPosition.Source.PHONE,
                                          stopped_at__isnull=True)
    call_signs = list(stopped.values_list("call_sign", flat=True))
    stopped.update(stopped_at=now)
    for call_sign in call_signs:
        publish_feed_event("unit_stopped", unit=call_sign, updated_at=now.isoformat())
    return len(call_signs)
