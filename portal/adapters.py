import time

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.authentication import get_authentication_records
from allauth.core import context
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from django.urls import reverse


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request):
        if request.user.is_staff:
            return reverse("portal:staff_home")
        return reverse("portal:dashboard")

    def is_reauthentication_required(self, *, app, **kwargs):
        # A sign-in within the re-authentication window counts as re-authentication, so staff
        # sent to set up MFA right after signing in are not asked for their password again.
        required = super().is_reauthentication_required(app=app, **kwargs)
        return required and not self._signed_in_recently()

    def _signed_in_recently(self):
        request = self.request or context.request
        if request is None or not request.user.is_authenticated:
            return False
        window_start = time.time() - account_settings.REAUTHENTICATION_TIMEOUT
        return any(record.get("at", 0) >= window_start for record in get_authentication_records(request, request.user))


class MFAAdapter(DefaultMFAAdapter):
    def can_delete_authenticator(self, authenticator):
        # Staff must keep a second factor; they may add a new app but not remove the last one.
        if authenticator.user.is_staff and authenticator.type == Authenticator.Type.TOTP:
            return False
        return super().can_delete_authenticator(authenticator)
