"""Whether the signed-in staff member has passed a second factor in this session."""

from allauth.account.authentication import get_authentication_records
from allauth.account.internal.flows.login import (
    _AUTHENTICATION_METHODS_USER_SESSION_KEY as AUTHENTICATION_METHODS_USER_SESSION_KEY,
)
from allauth.account.internal.flows.login import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled

SESSION_KEY = "portal_mfa_user"
# The factors that satisfy the staff rule; recovery codes only stand in for one of them.
SECOND_FACTORS = [Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]


def has_second_factor(user):
    """Whether the user has an authenticator app or at least one passkey."""
    return is_mfa_enabled(user, SECOND_FACTORS)


def has_passkey(user):
    return is_mfa_enabled(user, [Authenticator.Type.WEBAUTHN])


def mark_session_verified(session, user):
    """Record that this session proved the user's second factor (sign-in, re-check or set-up)."""
    session[SESSION_KEY] = str(user.pk)


def session_passed_mfa(request):
    if request.session.get(SESSION_KEY) == str(request.user.pk):
        return True
    return any(record.get("method") == "mfa" for record in get_authentication_records(request, request.user))


def staff_session_ok(session, user):
    """For WebSocket scopes, which have a session but no request: staff with a second factor who passed it."""
    if not (user.is_authenticated and user.is_active and user.is_staff and has_second_factor(user)):
        return False
    if session.get(SESSION_KEY) == str(user.pk):
        return True
    if session.get(AUTHENTICATION_METHODS_USER_SESSION_KEY) != str(user.pk):
        return False
    return any(record.get("method") == "mfa" for record in session.get(AUTHENTICATION_METHODS_SESSION_KEY, []))
