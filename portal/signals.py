"""Receivers for allauth's MFA signals: they mark the session as having passed MFA."""

from allauth.mfa.signals import authenticator_added, authenticator_used
from django.dispatch import receiver

from portal.mfa import mark_session_verified


@receiver(authenticator_used)
@receiver(authenticator_added)
def mark_mfa_session(sender, request, user, authenticator, **kwargs):
    # Activating TOTP requires a valid code, so set-up counts as passing it.
    if request is not None and hasattr(request, "session"):
        mark_session_verified(request.session, user)
