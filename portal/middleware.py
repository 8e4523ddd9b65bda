"""Session rules for police staff: a 30-minute idle limit and mandatory MFA."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from portal.mfa import has_passkey, has_second_factor, session_passed_mfa

LAST_SEEN_KEY = "portal_staff_last_seen"


def _is_api(request):
    return request.path.startswith("/api/")


def _redirect_with_next(url_name, request):
    return redirect(f"{reverse(url_name)}?{urlencode({'next': request.get_full_path()})}")


class StaffIdleTimeoutMiddleware:
    """Signs staff out after STAFF_IDLE_TIMEOUT_MINUTES without a request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_staff:
            now = time.time()
            last_seen = request.session.get(LAST_SEEN_KEY)
            if last_seen is not None and now - last_seen > settings.STAFF_IDLE_TIMEOUT_MINUTES * 60:
                logout(request)
                message = _("You were signed out after %(minutes)d minutes without activity.") % {
                    "minutes": settings.STAFF_IDLE_TIMEOUT_MINUTES
                }
                if _is_api(request):
                    return JsonResponse({"detail": message}, status=401)
                messages.info(request, message)
                return _redirect_with_next("account_login", request)
            request.session[LAST_SEEN_KEY] = now
        return self.get_response(request)


class StaffMFAMiddleware:
    """Keeps staff out of every page but MFA set-up and sign-out until they pass a second factor."""

    def __init__(self, get_response):
        self.get_response = get_response
        self._exempt_prefixes = None

    def exempt_prefixes(self):
        if self._exempt_prefixes is None:
            self._exempt_prefixes = (
                reverse("account_logout"),
                reverse("account_reauthenticate"),
                reverse("set_language"),
                reverse("portal:healthz"),
                settings.STATIC_URL,
            )
        return self._exempt_prefixes

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and user.is_staff
            and not request.path.startswith(self.exempt_prefixes())
        ):
            refusal = self.refuse(request)
            if refusal is not None:
                return refusal
        return self.get_response(request)

    def refuse(self, request):
        if not has_second_factor(request.user):
            if request.path.startswith(reverse("mfa_index")):
                return None  # the set-up pages
            message = _("Police staff must protect their account with a passkey or an authenticator app "
                        "before going on.")
            target = "mfa_index"
        elif not session_passed_mfa(request):
            # Only the steps themselves: the other two-factor pages would let a session that has a password
            # but not the second factor add a passkey or read the recovery codes, and so pass without it.
            if request.path in (reverse("mfa_reauthenticate"), reverse("mfa_reauthenticate_webauthn")):
                return None
            # A passkey first when there is one: unlike a typed code, it cannot be given to a look-alike site.
            if has_passkey(request.user):
                message = _("Confirm with your passkey to go on.")
                target = "mfa_reauthenticate_webauthn"
            else:
                message = _("Enter a code from your authenticator app to go on.")
                target = "mfa_reauthenticate"
        else:
            return None
        if _is_api(request):
            return JsonResponse({"detail": message}, status=403)
        messages.warning(request, message)
        return _redirect_with_next(target, request)
