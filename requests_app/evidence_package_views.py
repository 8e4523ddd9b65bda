"""Evidence packages: staff create and download them; a prosecutor downloads one by its link."""

import logging

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from portal.access import staff_required
from portal.request_info import client_ip
from requests_app import evidence_package as packages
from requests_app.forms import EvidencePackageForm, PackageLinkForm
from requests_app.models import EvidencePackage, EvidencePackageLink
from requests_app.ranges import stream_pieces
from requests_app.tokens import token_hash

logger = logging.getLogger(__name__)


def get_incident_for_packages(request, pk):
    """An incident the staff member may see, for those allowed to review footage (officers: assigned ones)."""
    from incidents.views import get_incident_for_user, require_perm

    require_perm(request, "requests_app.view_footage")
    return get_incident_for_user(request, pk)


def get_package_for_staff(request, pk):
    """A package of an incident the staff member may see, for those allowed to review footage; else 403/404."""
    from incidents.models import Incident
    from incidents.views import require_perm

    require_perm(request, "requests_app.view_footage")
    return get_object_or_404(EvidencePackage.objects.select_related("incident", "created_by"), pk=pk,
                             incident__in=Incident.objects.visible_to(request.user))


@staff_required
def package_new(request, incident_pk):
    """Choose the incident's files and fix them in a package; lists the packages made before."""
    incident = get_incident_for_packages(request, incident_pk)
    available = list(packages.packageable_submissions(incident))
    form = EvidencePackageForm(request.POST if request.method == "POST" else None, submissions=available)
    if request.method == "POST" and form.is_valid():
        try:
            package = packages.evidence_package_create(incident=incident, actor=request.user,
                                                       submission_ids=form.cleaned_data["submissions"],
                                                       ip_address=client_ip(request))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            count = package.submissions.count()
            messages.success(request, ngettext("Package created with %(count)s file.",
                                               "Package created with %(count)s files.", count) % {"count": count})
            return redirect("requests_app:package", pk=package.pk)
    return render(request, "requests_app/evidence_package_new.html",
                  {"incident": incident, "form": form, "available": available,
                   "packages": incident.evidence_packages.select_related("created_by")
                  .prefetch_related("submissions")})


def _package_page(request, package, *, link_form=None, new_link=None, status=200):
    now = timezone.now()
    links = list(package.links.select_related("created_by", "revoked_by"))
    for link in links:
        link.live = link.is_live(now)
    return render(request, "requests_app/evidence_package.html", {
        "package": package, "incident": package.incident, "files": package.submissions.order_by("created_at", "pk")
        .select_related("footage_request__owner", "tombstone"), "links": links,
        "link_form": link_form or PackageLinkForm(), "new_link": new_link, "max_days": packages.LINK_MAX_DAYS},
        status=status)


@staff_required
@never_cache
def package_detail(request, pk):
    return _package_page(request, get_package_for_staff(request, pk))


def _zip_response(request, package, *, actor=None, link=None):
    """The ZIP, streamed, after recording the download; or the reason it cannot be given (410)."""
    try:
        submissions = packages.package_files(package)
    except ValidationError as error:
        return render(request, "requests_app/package_unavailable.html",
                      {"package": package, "reason": " ".join(error.messages)}, status=410)
    packages.evidence_package_record_download(package=package, submissions=submissions, actor=actor, link=link,
                                              ip_address=client_ip(request))
    response = StreamingHttpResponse(stream_pieces(request, packages.package_zip_pieces(package, submissions)),
                                     content_type="application/zip")
    response["Content-Disposition"] = content_disposition_header(True, packages.package_filename(package))
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@staff_required
def package_download(request, pk):
    return _zip_response(request, get_package_for_staff(request, pk), actor=request.user)


@staff_required
@require_POST
def package_link_create(request, pk):
    """Make a link for a prosecutor; its address is shown on this one page and never again."""
    package = get_package_for_staff(request, pk)
    form = PackageLinkForm(request.POST)
    if not form.is_valid():
        return _package_page(request, package, link_form=form, status=400)
    try:
        link, token = packages.evidence_package_link_create(package=package, actor=request.user,
                                                            ip_address=client_ip(request), **form.cleaned_data)
    except ValidationError as error:
        form.add_error(None, error)
        return _package_page(request, package, link_form=form, status=400)
    url = request.build_absolute_uri(reverse("requests_app:shared_package", args=[token]))
    response = _package_page(request, package, new_link={"link": link, "url": url})
    response["Cache-Control"] = "no-store"
    return response


@staff_required
@require_POST
def package_link_revoke(request, pk, link_pk):
    package = get_package_for_staff(request, pk)
    link = get_object_or_404(EvidencePackageLink, pk=link_pk, package=package)
    packages.evidence_package_link_revoke(link=link, actor=request.user, ip_address=client_ip(request))
    messages.success(request, _("The link for %(recipient)s is revoked: it no longer works.") % {
        "recipient": link.recipient})
    return redirect("requests_app:package", pk=package.pk)


@never_cache
@require_GET
def shared_package(request, token):
    """/evidence/packages/<token>/: the package, for whoever holds a live link; no sign-in."""
    link = (EvidencePackageLink.objects.select_related("package__incident")
            .filter(token_hash=token_hash(token)).first())
    if link is None:
        response = render(request, "requests_app/package_link_invalid.html", status=404)
    elif not link.is_live(timezone.now()):
        response = render(request, "requests_app/package_link_invalid.html",
                          {"revoked": link.revoked_at is not None, "expired": link.revoked_at is None}, status=410)
    else:
        response = _zip_response(request, link.package, link=link)
    # The token is in this URL: it must never travel on as a Referer.
    response["Referrer-Policy"] = "no-referrer"
    return response
