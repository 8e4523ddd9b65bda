import time

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.authentication import get_authentication_records
from allauth.core import context
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext

from portal.mfa import SECOND_FACTORS


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
        # Staff must keep a second factor: they may remove the app or a passkey only while another remains.
        if authenticator.user.is_staff and authenticator.type in SECOND_FACTORS:
            others = Authenticator.objects.filter(user=authenticator.user, type__in=SECOND_FACTORS)
            if not others.exclude(pk=authenticator.pk).exists():
                return False
        return super().can_delete_authenticator(authenticator)

    def generate_authenticator_name(self, user, type):
        # allauth's "Master key" / "Backup key" read oddly for a laptop's passkey; the person names it anyway.
        if type != Authenticator.Type.WEBAUTHN:
            return super().generate_authenticator_name(user, type)
        number = Authenticator.objects.filter(user_id=user.pk, type=type).count() + 1
        return gettext("Passkey %(number)d") % {"number": number}

    def get_public_key_credential_rp_entity(self):
        # The passkey is bound to the host name the browser shows (ALLOWED_HOSTS vouches for it); the name
        # is what the browser and the phone show beside it, the program's rather than the bare host's.
        entity = super().get_public_key_credential_rp_entity()
        return {**entity, "name": settings.PROGRAM_NAME}
