"""Reads for staff: cameras in a circle, as staff may see them."""

from django.utils import timezone
from django.utils.translation import gettext as _

from cameras.geo import APPROXIMATE_GRID_M, approximate_location, haversine_m
from cameras.models import Camera, SharingRules


def staff_camera_results(lat, lng, radius_m):
    """Cameras staff may see inside the circle, nearest first, with positions blurred where owners chose so.

    An approximate camera is placed, measured and kept or dropped by its grid-cell centre, so that
    searches from many centres cannot narrow its position below the cell. Each result says whether
    the owner can be asked for footage and, if not, why.
    """
    now = timezone.now()
    candidates = (Camera.objects.visible_to_staff().with_policy_facts()
                  .within(lat, lng, radius_m + APPROXIMATE_GRID_M))
    results = []
    for camera in candidates:
        rules = camera.rules
        if rules.location_precision == SharingRules.Precision.APPROXIMATE:
            shown_lat, shown_lng = approximate_location(camera.latitude, camera.longitude)
            distance = haversine_m(lat, lng, shown_lat, shown_lng)
        else:
            shown_lat, shown_lng, distance = camera.latitude, camera.longitude, camera.distance_m
        if distance > radius_m:
            continue
        reason = ""
        if not camera.owner_waiver_current:
            reason = _("The owner has not signed the current program agreement.")
        elif rules.is_paused(now):
            reason = _("The owner has paused sharing.")
        elif not rules.accept_requests:
            reason = _("The owner does not accept footage requests.")
        results.append({
            "id": camera.pk, "name": camera.name, "site_kind": camera.site_kind, "coverage": camera.coverage,
            "direction_degrees": camera.direction_degrees, "access_level": camera.access_level,
            "latitude": shown_lat, "longitude": shown_lng, "location_precision": rules.location_precision,
            "distance_m": round(distance, 1), "owner_id": camera.owner_id, "owner_name": camera.owner.display_name,
            "owner_type": camera.owner.account_type, "available_for_requests": not reason,
            "unavailable_reason": str(reason),
        })
    results.sort(key=lambda item: (item["distance_m"], item["id"]))
    return results
