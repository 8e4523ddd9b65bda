"""Whether the signed-in staff member has passed a second factor in this session."""

from allauth.account.authentication import get_authentication_records
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled

SESSION_KEY = "portal_mfa_user"


def has_totp(user):
    return is_mfa_enabled(user, [Authenticator.Type.TOTP])


def mark_session_verified(session, user):
    """Record that this session proved the user's second factor (sign-in, re-check or set-up)."""
    session[SESSION_KEY] = str(user.pk)


def session_passed_mfa(request):
    if request.session.get(SESSION_KEY) == str(request.user.pk):
        return True
    return any(record.get("method") == "mfa" for record in get_authentication_records(request, request.user))
