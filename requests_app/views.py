import logging

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from portal.access import staff_required
from portal.audit import audit_record
from portal.models import AuditEvent
from portal.request_info import client_ip
from requests_app import services
from requests_app.access import get_footage_request_for_answer, grant_session
from requests_app.forms import DeclineForm, HoldForm
from requests_app.models import AreaRequest, FootageRequest, FootageSubmission
from requests_app.ranges import ranged_footage_response
from requests_app.retention import footage_hold_lift, footage_hold_place, retention_state
from requests_app.storage import footage_storage, storage_errors
from requests_app.submissions import evidence_name
from requests_app.tokens import token_hash

logger = logging.getLogger(__name__)


def _no_referrer(response):
    # The token is in this URL: no page or resource may ever send it on as a Referer. (Only here:
    # on pages with forms, "no-referrer" makes browsers send "Origin: null", which CSRF refuses.)
    response["Referrer-Policy"] = "no-referrer"
    return response


@never_cache
def link_open(request, token):
    """/r/<token>/: the e-mailed link. Swaps the token for a session and forgets it."""
    footage_request = FootageRequest.objects.filter(token_hash=token_hash(token)).first()
    if footage_request is None:
        return _no_referrer(render(request, "requests_app/link_invalid.html", status=404))
    if footage_request.expires_at <= timezone.now() or footage_request.status == FootageRequest.Status.EXPIRED:
        return _no_referrer(render(request, "requests_app/link_invalid.html", {"expired": True}, status=410))
    grant_session(request, footage_request)
    services.footage_request_open(footage_request=footage_request, ip_address=client_ip(request))
    return _no_referrer(redirect("requests_app:answer", pk=footage_request.pk))


@never_cache
def answer(request, pk):
    footage_request = get_footage_request_for_answer(request, pk)
    if footage_request.status == FootageRequest.Status.PENDING:
        footage_request = services.footage_request_open(footage_request=footage_request,
                                                        ip_address=client_ip(request))
    context = {"footage_request": footage_request, "area_request": footage_request.area_request,
               "incident": footage_request.area_request.incident, "decline_form": DeclineForm(),
               "expired": footage_request.expires_at <= timezone.now(),
               "submissions": footage_request.submissions.order_by("created_at"),
               "limits": {"file": settings.UPLOAD_MAX_FILE_BYTES, "files": settings.UPLOAD_MAX_FILES_PER_REQUEST,
                          "chunk": settings.UPLOAD_MAX_CHUNK_BYTES}}
    return render(request, "requests_app/answer.html", context)


@require_POST
def answer_approve(request, pk):
    footage_request = get_footage_request_for_answer(request, pk)
    try:
        services.footage_request_approve(footage_request=footage_request, ip_address=client_ip(request))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Thank you. Now add your video files below."))
    return redirect("requests_app:answer", pk=pk)


@require_POST
def answer_decline(request, pk):
    footage_request = get_footage_request_for_answer(request, pk)
    form = DeclineForm(request.POST)
    if form.is_valid():
        try:
            services.footage_request_decline(footage_request=footage_request, reason=form.cleaned_data["reason"],
                                             no_footage=form.cleaned_data["no_footage"],
                                             ip_address=client_ip(request))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Thank you for answering. The investigator will see that you declined."))
    return redirect("requests_app:answer", pk=pk)


# --- Staff -------------------------------------------------------------------------------------

@staff_required
@require_POST
def area_request_send(request, incident_pk):
    from incidents.forms import AreaRequestForm
    from incidents.views import get_incident_for_user, require_perm

    incident = get_incident_for_user(request, incident_pk)
    require_perm(request, "requests_app.send_arearequest")
    # Back to the page the form was on: the incident's page, or its video wall.
    back = "incidents:live" if request.POST.get("return_to") == "live" else "incidents:detail"
    form = AreaRequestForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Check the request: %(errors)s") % {"errors": _form_errors(form)})
        return redirect(back, pk=incident.pk)
    try:
        area_request = services.area_request_create(incident=incident, sender=request.user,
                                                    ip_address=client_ip(request), **form.cleaned_data)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if area_request.status == AreaRequest.Status.AWAITING_APPROVAL:
            messages.warning(request, _("The request is beyond the city's limits and waits for a supervisor's "
                                        "approval: %(reasons)s") % {"reasons": " ".join(area_request.over_limits)})
        else:
            count = area_request.footage_requests.count()
            messages.success(request, ngettext("Sent to %(count)s owner.", "Sent to %(count)s owners.", count) % {
                "count": count})
    return redirect(back, pk=incident.pk)


def _form_errors(form):
    return " ".join(f"{form.fields[name].label if name in form.fields else ''}: {' '.join(errors)}"
                    for name, errors in form.errors.items())


@staff_required
@require_POST
def area_request_decide(request, pk):
    from incidents.views import require_perm

    require_perm(request, "requests_app.approve_arearequest")
    area_request = get_object_or_404(AreaRequest, pk=pk)
    approve = request.POST.get("decision") == "approve"
    try:
        services.area_request_decide(area_request=area_request, supervisor=request.user, approve=approve,
                                     note=request.POST.get("note", ""), ip_address=client_ip(request))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Approved and sent.") if approve else _("Rejected."))
    return redirect("incidents:approvals")


def get_submission_for_staff(request, pk):
    """Accepted footage of an incident the staff member may see, for those allowed to review footage."""
    from incidents.models import Incident
    from incidents.views import require_perm

    require_perm(request, "requests_app.view_footage")
    submission = get_object_or_404(
        FootageSubmission.objects.select_related("footage_request__owner", "footage_request__area_request__incident"),
        pk=pk, status=FootageSubmission.Status.ACCEPTED)
    incident = submission.footage_request.area_request.incident
    if not Incident.objects.visible_to(request.user).filter(pk=incident.pk).exists():
        raise Http404("No such footage.")
    return submission


@staff_required
def evidence_file(request, pk):
    """Stream an accepted video (with Range support for seeking), audited as a view or a download."""
    submission = get_submission_for_staff(request, pk)
    download = request.GET.get("download") == "1"
    range_header = request.headers.get("Range", "")
    if download or not range_header or range_header.startswith("bytes=0-"):
        audit_record(action="footage.downloaded" if download else "footage.viewed", actor=request.user,
                     **submission.footage_request.audit_subject(), target=f"submission:{submission.pk}",
                     incident_reference=submission.footage_request.area_request.incident.reference,
                     ip_address=client_ip(request), details={"sha256": submission.sha256})
    try:
        return ranged_footage_response(request, footage_storage(), evidence_name(submission), download=download,
                                       filename=submission.original_name,
                                       content_type=_video_content_type(submission))
    except FileNotFoundError:
        logger.error("Evidence file of submission %s is missing from the footage storage", submission.pk)
        raise Http404("The stored file is missing.") from None
    except storage_errors() as error:
        logger.error("Footage storage failed serving submission %s: %s", submission.pk, error)
        return HttpResponse(_("The footage store is not answering; please try again in a moment."), status=503,
                            content_type="text/plain; charset=utf-8", headers={"Retry-After": "5"})


def _video_content_type(submission):
    container = submission.media.get("container", "")
    if container in ("mp4", "mov"):
        return "video/mp4"
    if "webm" in container or "matroska" in container:
        return "video/webm"
    return "application/octet-stream"


@staff_required
def custody_report(request, pk):
    """Every recorded event from the request to the latest download, with hashes: printable."""
    submission = get_submission_for_staff(request, pk)
    footage_request = submission.footage_request
    targets = [f"submission:{submission.pk}", f"footage_request:{footage_request.pk}",
               f"area_request:{footage_request.area_request_id}"]
    events = AuditEvent.objects.filter(target__in=targets).select_related("actor").order_by("id")
    audit_record(action="footage.custody_report", actor=request.user, **footage_request.audit_subject(),
                 target=f"submission:{submission.pk}", ip_address=client_ip(request),
                 incident_reference=footage_request.area_request.incident.reference)
    return render(request, "requests_app/custody_report.html",
                  {"submission": submission, "footage_request": footage_request, "events": events,
                   "incident": footage_request.area_request.incident})


@staff_required
def footage_hold(request, pk):
    """A supervisor places or lifts a legal hold on accepted footage, giving the reason."""
    from incidents.views import require_perm

    submission = get_submission_for_staff(request, pk)
    require_perm(request, "requests_app.hold_footage")
    form = HoldForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        lifting = request.POST.get("action") == "lift"
        service = footage_hold_lift if lifting else footage_hold_place
        try:
            service(submission=submission, actor=request.user, reason=form.cleaned_data["reason"],
                    ip_address=client_ip(request))
        except ValidationError as error:
            form.add_error("reason" if hasattr(error, "error_dict") else None, error)
        else:
            messages.success(request, _("The hold is lifted; the retention rules apply again.") if lifting
                             else _("The footage is on legal hold: it will not be deleted until the hold is lifted."))
            return redirect("incidents:detail", pk=submission.footage_request.area_request.incident_id)
    return render(request, "requests_app/hold.html",
                  {"submission": submission, "incident": submission.footage_request.area_request.incident,
                   "state": retention_state(submission, timezone.now()), "form": form})
