"""The oversight desk (/oversight/): the audit log in plain sentences, flags worth a look, the CSV export.

Read-only for everyone who may read the audit log (oversight, supervisors); the export is audited.
"""

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from portal import oversight
from portal.access import staff_required
from portal.audit import audit_record
from portal.forms import OversightFilterForm
from portal.models import AuditEvent
from portal.request_info import client_ip

PAGE_SIZE = 50
AUDIT_PERMISSION = "portal.view_auditevent"


def audit_reader_required(view):
    """Staff who may read the audit log; anyone else is refused (anonymous visitors sign in first)."""

    @staff_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.has_perm(AUDIT_PERMISSION):
            raise PermissionDenied("Reading the audit log needs the oversight or supervisor role.")
        return view(request, *args, **kwargs)

    return wrapper


def _filtered(request, queryset):
    """(form, events): the events narrowed by the GET filters; none at all while the filters are wrong."""
    form = OversightFilterForm(request.GET or None)
    if not form.is_bound:
        return form, queryset, {}
    if not form.is_valid():
        return form, queryset.none(), {}
    return form, oversight.filter_events(queryset, form.cleaned_data), oversight.filters_summary(form.cleaned_data)


def _page(request, events):
    page = Paginator(oversight.events_for_reading(events), PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = oversight.with_sentences(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()


@require_safe
@audit_reader_required
def audit_browser(request):
    form, events, filters = _filtered(request, AuditEvent.objects.order_by("-id"))
    page, query = _page(request, events)
    return render(request, "portal/oversight/browser.html", {
        "form": form, "page": page, "query": query, "filters": filters, "section": "log"})


@require_safe
@audit_reader_required
def flag_list(request):
    flags = [(flag, flag.events().count()) for flag in oversight.FLAGS]
    return render(request, "portal/oversight/flags.html", {"flags": flags, "section": "flags"})


@require_safe
@audit_reader_required
def flag_detail(request, slug):
    flag = oversight.FLAGS_BY_SLUG.get(slug)
    if flag is None:
        raise Http404("No such flag.")
    form, events, filters = _filtered(request, flag.events().order_by("-id"))
    page, query = _page(request, events)
    return render(request, "portal/oversight/flag.html", {
        "flag": flag, "form": form, "page": page, "query": query, "filters": filters, "section": "flags"})


@require_safe
@audit_reader_required
def export_csv(request):
    form, events, filters = _filtered(request, AuditEvent.objects.all())
    if form.is_bound and not form.is_valid():
        return render(request, "portal/oversight/browser.html", {
            "form": form, "page": None, "query": "", "filters": {}, "section": "log", "export_refused": True},
            status=400)
    head = oversight.chain_head()
    events = events.filter(id__lte=head.pk) if head else events.none()
    exported_at = timezone.now()
    # Recorded first, so the file never leaves without a trace; the export itself ends at `head`.
    audit_record(action="audit.exported", actor=request.user, ip_address=client_ip(request),
                 target="audit-export", details={"filters": filters, "rows": events.count(),
                                                 "chain_head_id": head.pk if head else 0})
    response = StreamingHttpResponse(
        oversight.export_lines(events, head=head, filters=filters, exported_at=exported_at),
        content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime(exported_at).strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="audit-export-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response
