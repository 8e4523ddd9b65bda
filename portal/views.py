from allauth.mfa.adapter import get_adapter as get_mfa_adapter
from allauth.mfa.webauthn.views import RemoveWebAuthnView
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from cameras.forms import PauseForm
from cameras.models import Camera
from portal import health
from portal.access import owner_only, owner_required, staff_required
from portal.audit import audit_events_with_camera_names
from portal.forms import LiveViewNoticeForm, ProfileForm, StaffProfileForm, WaiverSignForm
from portal.models import AuditEvent, OutboxEmail, User, Waiver, WaiverSignature
from portal.request_info import client_ip, user_agent
from portal.roles import DESCRIPTIONS
from portal.services import account_close, footage_kept_after_closing, live_view_notice_set, user_set_language
from portal.services import waiver_sign as waiver_sign_service
from requests_app.models import FootageRequest, FootageSubmission
from requests_app.retention import State, with_retention


def favicon(request):
    # Browsers ask for /favicon.ico on pages that do not name an icon (the admin's).
    return redirect(static("img/favicon.svg"), permanent=True)


def home(request):
    return render(request, "portal/home.html")


@owner_required
def dashboard(request):
    user = request.user
    cameras = list(Camera.objects.owned_by(user).select_related("owner", "rules", "stream"))
    now = timezone.now()
    for camera in cameras:
        camera.paused_now = camera.rules.is_paused(now)
    waiver = Waiver.objects.current_for(user)
    context = {
        "email_verified": user.emailaddress_set.filter(verified=True).exists(),
        "cameras": cameras,
        "camera_points": [{"name": c.name, "lat": c.latitude, "lng": c.longitude, "integrated": c.is_integrated,
                           "url": reverse("cameras:edit", args=[c.pk])} for c in cameras],
        "waiver": waiver,
        "signed_current": waiver is None or waiver.signatures.filter(user=user).exists(),
        "has_signed_before": user.waiver_signatures.exists(),
        "access_events": AuditEvent.objects.access_log_for(user)[:5],
        "any_paused": any(camera.paused_now for camera in cameras),
        "pause_form": PauseForm(),
        "footage_requests": FootageRequest.objects.open_for_owner(user)[:20],
        **files_given_context(user, now),
    }
    return render(request, "portal/dashboard.html", context)


def files_given_context(user, now):
    """What templates/requests_app/includes/files_given.html shows: the owner's files and their states."""
    files = with_retention(FootageSubmission.objects.given_by(user)[:50], now)
    return {"files_given": files,
            "files_checking": any(each.retention.code == State.BEING_CHECKED for each in files),
            "RETENTION": {"no_case": settings.RETENTION_NO_CASE_DAYS, "evidence": settings.EVIDENCE_RETENTION_DAYS}}


@owner_required
def waiver_sign(request):
    user = request.user
    waiver = Waiver.objects.current_for(user)
    if waiver is None:
        return render(request, "portal/waiver_sign.html", {"waiver": None})
    signature = waiver.signatures.filter(user=user).first()
    form = WaiverSignForm(request.POST or None)
    if request.method == "POST" and signature is None and form.is_valid():
        try:
            waiver_sign_service(user=user, waiver=waiver, typed_name=form.cleaned_data["typed_name"],
                                agreed=form.cleaned_data["agreed"], ip_address=client_ip(request),
                                user_agent=user_agent(request))
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Thank you. You signed version %(version)s of the agreement.") % {
                "version": waiver.version})
            if not Camera.objects.owned_by(user).exists():
                return redirect("cameras:create")
            return redirect("portal:dashboard")
    return render(request, "portal/waiver_sign.html", {"waiver": waiver, "signature": signature, "form": form})


@owner_required
def waiver_signature(request, pk):
    signature = get_object_or_404(WaiverSignature.objects.filter(user=request.user).select_related("waiver"), pk=pk)
    return render(request, "portal/waiver_signature.html", {"signature": signature})


@owner_required
def access_log(request):
    events = AuditEvent.objects.access_log_for(request.user)[:500]
    return render(request, "portal/access_log.html",
                  {"events": audit_events_with_camera_names(events, owner=request.user)})


@owner_required
def account_close_view(request):
    if request.method == "POST":
        if request.POST.get("confirm") != "close":
            messages.error(request, _("Tick the box to confirm that you want to leave the program."))
            return redirect("portal:account_close")
        account_close(user=request.user, ip_address=client_ip(request))
        logout(request)
        messages.success(request, _("Your account is closed and your cameras have left the program."))
        return redirect("portal:home")
    return render(request, "portal/account_close.html",
                  {"camera_count": request.user.cameras.count(), "kept": footage_kept_after_closing(request.user),
                   "RETENTION": {"no_case": settings.RETENTION_NO_CASE_DAYS,
                                 "evidence": settings.EVIDENCE_RETENTION_DAYS}})


@login_required
def account(request):
    user = request.user
    form_class = StaffProfileForm if user.is_staff else ProfileForm
    initial = {field: getattr(user, field) for field in form_class.base_fields}
    form = form_class(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        form.save(user)
        messages.success(request, _("Your details were saved."))
        return redirect("portal:account")
    notice_form = LiveViewNoticeForm(initial={"live_view_notice": user.live_view_notice}) if user.is_owner else None
    return render(request, "portal/account.html", {"form": form, "notice_form": notice_form})


@require_POST
@owner_only
def account_notices(request):
    form = LiveViewNoticeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose how you want to hear of live views: each time, once a day, or never."))
        return redirect("portal:account")
    live_view_notice_set(user=request.user, notice=form.cleaned_data["live_view_notice"],
                         ip_address=client_ip(request))
    messages.success(request, _("Your live-view notice choice was saved: %(choice)s.") % {
        "choice": request.user.get_live_view_notice_display()})
    return redirect(f"{reverse('portal:account')}#notices")


@staff_required
def staff_home(request):
    user = request.user
    granted = [description for name, description in DESCRIPTIONS.items() if user.has_perm(name)]
    figures = {
        "residents": User.objects.owners().filter(account_type=User.AccountType.RESIDENT).count(),
        "businesses": User.objects.owners().filter(account_type=User.AccountType.BUSINESS).count(),
        "staff": User.objects.staff().count(),
    }
    roles = list(user.groups.values_list("name", flat=True))
    context = {
        "granted": granted, "figures": figures, "roles": roles,
        "STAFF_IDLE_MINUTES": settings.STAFF_IDLE_TIMEOUT_MINUTES,
    }
    return render(request, "portal/staff_home.html", context)


class PasskeyRemoveView(RemoveWebAuthnView):
    """allauth's removal of one's own passkey, refused when it is a staff member's last second factor."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_remove"] = get_mfa_adapter().can_delete_authenticator(self.object)
        return context

    def form_valid(self, form):
        if not get_mfa_adapter().can_delete_authenticator(self.get_object()):
            messages.error(self.request, _("Police staff must keep a second factor: add another passkey or an "
                                           "authenticator app before removing this one."))
            return redirect("mfa_list_webauthn")
        return super().form_valid(form)


passkey_remove = PasskeyRemoveView.as_view()


@require_POST
def language_switch(request):
    response = set_language(request)
    if request.user.is_authenticated:
        user_set_language(user=request.user, language=request.POST.get("language", ""))
    return response


@never_cache
def healthz(request):
    healthy, results = health.run_checks()
    return JsonResponse({"status": "ok" if healthy else "degraded", "checks": results}, status=200 if healthy else 503)


def _require_debug():
    if not settings.DEBUG:
        raise Http404("The outbox exists only in development (DEBUG on).")


def outbox(request):
    _require_debug()
    return render(request, "portal/outbox.html", {"emails": OutboxEmail.objects.newest_first()[:200]})


def outbox_detail(request, pk):
    _require_debug()
    return render(request, "portal/outbox_detail.html", {"email": get_object_or_404(OutboxEmail, pk=pk)})


def page_not_found(request, exception):
    """The 404 page; under /api/ a JSON body like DRF's own 404s, for clients that parse every answer."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("Not found.")}, status=404)
    return defaults.page_not_found(request, exception)
