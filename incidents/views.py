from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from cameras.live import live_candidates
from cameras.search import staff_camera_map_points
from incidents.forms import AreaRequestForm, IncidentForm
from incidents.models import Incident, UnitPosition
from incidents.realtime import incident_alert_data
from incidents.services import incident_create
from incidents.units import unit_moved_data
from portal.access import staff_required
from portal.audit import audit_record
from portal.request_info import client_ip
from requests_app.models import AreaRequest, FootageSubmission
from requests_app.retention import with_retention
from requests_app.services import area_request_check, area_request_preview


def require_perm(request, permission):
    if not request.user.has_perm(permission):
        raise PermissionDenied(_("Your role does not allow this."))


def get_incident_for_user(request, pk):
    """An incident the staff member may see (officers: assigned ones), else 404."""
    require_perm(request, "incidents.view_incident")
    return get_object_or_404(Incident.objects.visible_to(request.user), pk=pk)


def area_request_form(incident):
    """The area-request form for an incident: a 200 m circle on it, over the incident's time window."""
    return AreaRequestForm(initial={
        "latitude": incident.latitude, "longitude": incident.longitude, "radius_m": 200,
        "window_start": timezone.localtime(incident.window_start).replace(second=0, microsecond=0),
        "window_end": timezone.localtime(incident.window_end).replace(second=0, microsecond=0),
        "case_number": incident.case_number})


@staff_required
def incident_list(request):
    require_perm(request, "incidents.view_incident")
    incidents = Incident.objects.visible_to(request.user).for_list()[:200]
    return render(request, "incidents/incident_list.html", {"incidents": incidents})


@staff_required
def incident_new(request):
    require_perm(request, "incidents.add_incident")
    now = timezone.localtime().replace(second=0, microsecond=0)
    centre_lat, centre_lng = settings.LEAFLET_CONFIG["DEFAULT_CENTER"]
    form = IncidentForm(request.POST or None, initial={"latitude": centre_lat, "longitude": centre_lng,
                                                       "window_start": now - timezone.timedelta(hours=2),
                                                       "window_end": now})
    if request.method == "POST" and form.is_valid():
        try:
            incident = incident_create(created_by=request.user, ip_address=client_ip(request), **form.cleaned_data)
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Incident %(reference)s opened.") % {"reference": incident.reference})
            return redirect("incidents:detail", pk=incident.pk)
    return render(request, "incidents/incident_form.html", {"form": form})


@staff_required
def incident_detail(request, pk):
    incident = get_incident_for_user(request, pk)
    area_requests = (incident.area_requests.select_related("sender", "decided_by")
                     .prefetch_related("footage_requests__owner"))
    form = area_request_form(incident)
    submissions = []
    if request.user.has_perm("requests_app.view_footage"):
        submissions = with_retention(
            FootageSubmission.objects.filter(footage_request__area_request__incident=incident)
            .select_related("footage_request__owner", "footage_request__area_request__incident", "tombstone", "held_by")
            .order_by("-created_at"))
    context = {"incident": incident, "area_requests": area_requests, "form": form, "submissions": submissions,
               "can_send": request.user.has_perm("requests_app.send_arearequest"),
               "limits": {"radius_m": settings.AREA_REQUEST_MAX_RADIUS_M,
                          "hours": settings.AREA_REQUEST_MAX_WINDOW_HOURS,
                          "case_number": settings.AREA_REQUEST_CASE_NUMBER_REQUIRED}}
    return render(request, "incidents/incident_detail.html", context)


@staff_required
def incident_preview(request, pk):
    """JSON for the incident map: cameras in the circle, who would be asked, and the limits."""
    incident = get_incident_for_user(request, pk)
    require_perm(request, "cameras.view_camera")
    try:
        lat, lng = float(request.GET["lat"]), float(request.GET["lng"])
        radius_m = int(float(request.GET["radius_m"]))
    except (KeyError, ValueError):
        return JsonResponse({"error": _("lat, lng and radius_m are required numbers.")}, status=400)
    if not (-90 <= lat <= 90 and -180 <= lng <= 180 and 0 < radius_m <= settings.CAMERA_SEARCH_MAX_RADIUS_M):
        return JsonResponse({"error": _("The point or the radius is out of range.")}, status=400)
    preview = area_request_preview(latitude=lat, longitude=lng, radius_m=radius_m)
    audit_record(action="camera.search", actor=request.user, ip_address=client_ip(request),
                 incident_reference=incident.reference, target=f"circle:{lat:.5f},{lng:.5f},{radius_m}",
                 details={"lat": lat, "lng": lng, "radius_m": radius_m, "found": preview["counts"]["cameras"]})
    over = []
    try:
        over = area_request_check(incident=incident, radius_m=radius_m, window_start=incident.window_start,
                                  window_end=incident.window_end, case_number=incident.case_number or "n/a")
    except ValidationError:
        pass
    cameras = [{key: camera[key] for key in ("id", "name", "latitude", "longitude", "access_level",
                                             "location_precision", "available_for_requests",
                                             "unavailable_reason")} for camera in preview["cameras"]]
    return JsonResponse({"counts": preview["counts"], "cameras": cameras, "not_asked": preview["not_asked"],
                         "over_limits": over})


@staff_required
def approvals(request):
    require_perm(request, "requests_app.approve_arearequest")
    waiting = (AreaRequest.objects.filter(status=AreaRequest.Status.AWAITING_APPROVAL)
               .select_related("incident", "sender").order_by("created_at"))
    return render(request, "incidents/approvals.html", {"waiting": waiting})


FEED_ACTIONS = ["area_request.created", "request.opened", "request.approved", "request.declined",
                "footage.uploaded", "footage.accepted", "footage.rejected", "incident.created"]


@staff_required
def feed(request):
    """The RTCC feed: what is happening across incidents, updated live."""
    require_perm(request, "incidents.change_incident")
    from portal.models import AuditEvent

    events = AuditEvent.objects.filter(action__in=FEED_ACTIONS).order_by("-id")[:50]
    references = {event.incident_reference for event in events}
    incidents = {incident.reference: incident for incident in Incident.objects.filter(reference__in=references)}
    rows = [{"event": event, "incident": incidents.get(event.incident_reference)} for event in events]
    return render(request, "incidents/feed.html", {"rows": rows})


@staff_required
def rtcc(request):
    """The real-time crime centre: a live map of incidents, cameras and units, and the alert feed."""
    require_perm(request, "incidents.change_incident")
    incidents = Incident.objects.for_rtcc()[:100]
    return render(request, "incidents/rtcc.html", {"incidents": incidents})


@staff_required
def rtcc_map(request):
    """JSON for the RTCC map: open incidents, every camera staff may see (blurred where chosen), active units."""
    require_perm(request, "incidents.change_incident")
    require_perm(request, "cameras.view_camera")
    points = staff_camera_map_points()
    audit_record(action="camera.map", actor=request.user, ip_address=client_ip(request), target="rtcc-map",
                 details={"cameras": len(points)})
    return JsonResponse({
        "incidents": [incident_alert_data(incident) for incident in Incident.objects.for_rtcc()[:500]],
        "cameras": points,
        "units": rtcc_units(),
    })


@staff_required
def incident_live(request, pk):
    """The incident's video wall: the integrated cameras nearby the policy allows now, nearest first."""
    incident = get_incident_for_user(request, pk)
    require_perm(request, "cameras.view_live")
    allowed, refused = live_candidates(incident=incident, viewer=request.user)
    return render(request, "incidents/incident_live.html", {
        "incident": incident, "docked": allowed[:4], "more": allowed[4:], "refused": refused,
        "can_send": request.user.has_perm("requests_app.send_arearequest"), "form": area_request_form(incident),
        "phone": request.GET.get("view") == "phone",
    })


@staff_required
def officer_home(request):
    """The officers' phone view: my assigned incidents, their live cameras and the footage shared so far."""
    require_perm(request, "incidents.view_incident")
    incidents = list(Incident.objects.visible_to(request.user).assigned_to(request.user).open()
                     .order_by("priority", "-window_start"))
    submissions = []
    if request.user.has_perm("requests_app.view_footage"):
        submissions = (FootageSubmission.objects.accepted().for_incidents(incidents)
                       .select_related("footage_request__owner", "footage_request__area_request__incident")
                       .order_by("-created_at")[:50])
    return render(request, "incidents/officer_home.html", {"incidents": incidents, "submissions": submissions,
                                                           "share_location": True})


def rtcc_units():
    """Units seen recently and still sharing, for the RTCC map."""
    return [unit_moved_data(unit) for unit in UnitPosition.objects.active().select_related("officer")]
