from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from portal import health
from portal.access import owner_required, staff_required
from portal.forms import ProfileForm, StaffProfileForm
from portal.models import OutboxEmail, User
from portal.roles import DESCRIPTIONS
from portal.services import user_set_language


def favicon(request):
    # Browsers ask for /favicon.ico on pages that do not name an icon (the admin's).
    return redirect(static("img/favicon.svg"), permanent=True)


def home(request):
    return render(request, "portal/home.html")


@owner_required
def dashboard(request):
    email_verified = request.user.emailaddress_set.filter(verified=True).exists()
    return render(request, "portal/dashboard.html", {"email_verified": email_verified})


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
    return render(request, "portal/account.html", {"form": form})


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
