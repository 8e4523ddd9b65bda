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


def staff_camera_map_points():
    """Every camera staff may see, as compact map points [id, lat, lng, integrated], blurred where owners chose.

    For the RTCC's city-wide map: a few bytes per camera, so tens of thousands load in one request.
    """
    rows = (Camera.objects.visible_to_staff()
            .values_list("pk", "latitude", "longitude", "access_level", "rules__location_precision")
            .order_by("pk"))
    points = []
    for pk, lat, lng, access_level, precision in rows:
        if precision == SharingRules.Precision.APPROXIMATE:
            lat, lng = approximate_location(lat, lng)
        points.append([pk, round(lat, 6), round(lng, 6), 1 if access_level == Camera.AccessLevel.INTEGRATED else 0])
    return points
