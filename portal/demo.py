"""Demo data for `manage.py seed_demo`: owners and staff a newcomer can sign in as.

Idempotent: running it again updates the same accounts and keeps each staff member's TOTP
secret, so an authenticator app set up once keeps working.
"""

from dataclasses import dataclass

from allauth.account.models import EmailAddress
from allauth.mfa.adapter import get_adapter as get_mfa_adapter
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.db import transaction

from portal import roles
from portal.models import User
from portal.services import staff_create

DEMO_PASSWORD = "community-cameras"  # noqa: S105  (printed by seed_demo; demo only)

OWNERS = [
    {"email": "resident@example.org", "full_name": "Maria Lopez", "account_type": User.AccountType.RESIDENT,
     "phone": "555-010-2233", "business_name": ""},
    {"email": "business@example.org", "full_name": "Sam Okafor", "account_type": User.AccountType.BUSINESS,
     "phone": "555-010-7788", "business_name": "Corner Market"},
]

STAFF = [
    {"email": "operator@example.org", "full_name": "Dana Reyes", "badge_number": "4411", "roles": [roles.OPERATOR]},
    {"email": "officer@example.org", "full_name": "Chris Park", "badge_number": "2718", "roles": [roles.OFFICER]},
    {"email": "supervisor@example.org", "full_name": "Lt. Jordan Blake", "badge_number": "1007",
     "roles": [roles.SUPERVISOR]},
    {"email": "oversight@example.org", "full_name": "Privacy Board (demo)", "badge_number": "",
     "roles": [roles.OVERSIGHT]},
]


@dataclass
class StaffLogin:
    email: str
    roles: list
    totp_secret: str
    otpauth_uri: str


def _ensure_owner(details):
    user = User.objects.filter(email=details["email"]).first() or User.objects.create_user(email=details["email"])
    for field, value in details.items():
        setattr(user, field, value)
    user.is_staff = False
    user.set_password(DEMO_PASSWORD)
    user.save()
    EmailAddress.objects.update_or_create(user=user, email=user.email, defaults={"verified": True, "primary": True})
    return user


def _ensure_totp(user):
    """The user's TOTP secret, creating the authenticator (and recovery codes) on first run."""
    authenticator = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if authenticator is None:
        authenticator = TOTP.activate(user, generate_totp_secret()).instance
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.RECOVERY_CODES).exists():
        RecoveryCodes.activate(user)
    return get_mfa_adapter().decrypt(authenticator.data["secret"])


@transaction.atomic
def demo_seed():
    """Create or refresh the demo accounts; returns the staff sign-in details to print."""
    for details in OWNERS:
        _ensure_owner(details)
    logins = []
    for details in STAFF:
        user, _ = staff_create(**details, password=DEMO_PASSWORD)
        secret = _ensure_totp(user)
        uri = get_mfa_adapter().build_totp_url(user, secret)
        logins.append(StaffLogin(user.email, details["roles"], secret, uri))
    return logins
