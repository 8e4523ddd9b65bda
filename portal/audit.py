"""Writing and verifying the hash-chained audit log."""

from dataclasses import dataclass

from django.db import connection, transaction
from django.utils.ipv6 import clean_ipv6_address
from django.utils.translation import gettext_lazy as _

from portal.models import AuditEvent

GENESIS_HASH = "0" * 64

# What owners read in their access log, for the actions they see there.
ACTION_LABELS = {
    "live.access": _("Live view"),
    "live.started": _("Live viewing started"),
    "live.ended": _("Live viewing ended"),
    "request.sent": _("Footage request"),
    "footage.viewed": _("Footage viewed"),
    "footage.downloaded": _("Footage downloaded"),
    "footage.custody_report": _("Chain-of-custody report opened"),
    "evidence.package_downloaded": _("Evidence package downloaded"),
    "evidence.package_shared_download": _("Evidence package downloaded by the prosecutor's link"),
    "location.revealed": _("Exact location shown"),
}
# Any constant: PostgreSQL advisory lock that serialises appends to the chain.
_CHAIN_LOCK_KEY = 7_202_611


def _normalised_ip(ip_address):
    if ip_address and ":" in ip_address:
        return clean_ipv6_address(ip_address)
    return ip_address or None


def _lock_chain():
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])
    # SQLite: the project opens write transactions IMMEDIATE, which already serialises writers.


@transaction.atomic
def audit_record(*, action, outcome=AuditEvent.Outcome.DONE, actor=None, camera=None, cameras=None,
                 camera_owner=None, target="", incident_reference="", ip_address=None, details=None):
    """Append one event to the chain and return it.

    `camera_owner` (default: the camera's owner) decides whose access log shows the event.
    `cameras`, for an event about whatever cameras a footage request covered: one is stored as
    `camera`, several by id in details["camera_ids"], which the hash covers like the rest.
    """
    if cameras is not None:
        cameras = list(cameras)
        if len(cameras) == 1:
            camera = cameras[0]
        elif cameras:
            details = {**(details or {}), "camera_ids": sorted(each.pk for each in cameras)}
    _lock_chain()
    last = AuditEvent.objects.in_chain_order().only("hash").last()
    event = AuditEvent(
        actor=actor if actor is not None and actor.pk else None,
        actor_label=_actor_label(actor),
        action=action,
        outcome=outcome,
        target=target[:200],
        camera=camera,
        camera_owner_id=camera.owner_id if camera is not None else getattr(camera_owner, "pk", None),
        incident_reference=incident_reference,
        ip_address=_normalised_ip(ip_address),
        details=details or {},
        previous_hash=last.hash if last else GENESIS_HASH,
    )
    event.hash = event.compute_hash()
    event.save(force_insert=True)
    return event


def audit_events_with_camera_names(events, *, owner):
    """`events` as a list, each with `camera_names` (of the cameras it concerns that `owner` still
    has, in one query for all) and `removed_cameras` (how many of them were deleted since)."""
    from cameras.models import Camera

    events = list(events)
    wanted = {pk for event in events for pk in event.camera_ids}
    names = dict(Camera.objects.filter(owner=owner, pk__in=wanted).values_list("pk", "name"))
    for event in events:
        event.camera_names = sorted(names[pk] for pk in event.camera_ids if pk in names)
        event.removed_cameras = sum(pk not in names for pk in event.camera_ids)
    return events


def _actor_label(actor):
    if actor is None or not actor.pk:
        return ""
    return actor.staff_label if actor.is_staff else actor.display_name


@dataclass
class ChainReport:
    ok: bool
    checked: int
    broken_at: int | None = None
    reason: str = ""


def audit_verify():
    """Walk the chain in order; report the first event whose link or content does not match."""
    previous_hash = GENESIS_HASH
    checked = 0
    for event in AuditEvent.objects.in_chain_order().iterator(chunk_size=2000):
        if event.previous_hash != previous_hash:
            return ChainReport(False, checked, event.pk, "its link to the previous event does not match "
                               "(an event before it was deleted or changed)")
        if event.compute_hash() != event.hash:
            return ChainReport(False, checked, event.pk, "its content no longer matches its hash (it was edited)")
        previous_hash = event.hash
        checked += 1
    return ChainReport(True, checked)
