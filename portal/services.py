"""Writes for accounts and staff. Keyword-only, atomic; views and forms call these."""

import secrets

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction

from portal.models import User
from portal.roles import ROLE_NAMES


@transaction.atomic
def user_complete_signup(*, user, full_name, account_type, business_name="", phone="", language=""):
    """Fill in an owner's details right after allauth created the account."""
    if account_type not in (User.AccountType.RESIDENT, User.AccountType.BUSINESS):
        raise ValueError("Only residents and businesses sign up; staff are created by a supervisor.")
    user.full_name = full_name.strip()
    user.account_type = account_type
    user.business_name = business_name.strip() if account_type == User.AccountType.BUSINESS else ""
    user.phone = phone.strip()
    user.language = language if language in dict(settings.LANGUAGES) else ""
    user.is_staff = False
    user.save(update_fields=["full_name", "account_type", "business_name", "phone", "language", "is_staff"])
    return user


@transaction.atomic
def user_update_profile(*, user, full_name, phone="", account_type=None, business_name=None):
    fields = {"full_name": full_name.strip(), "phone": phone.strip()}
    if not user.is_staff and account_type in (User.AccountType.RESIDENT, User.AccountType.BUSINESS):
        fields["account_type"] = account_type
        fields["business_name"] = (business_name or "").strip() if account_type == User.AccountType.BUSINESS else ""
    for name, value in fields.items():
        setattr(user, name, value)
    user.save(update_fields=list(fields))
    return user


def user_set_language(*, user, language):
    if language in dict(settings.LANGUAGES) and user.language != language:
        user.language = language
        user.save(update_fields=["language"])


@transaction.atomic
def staff_create(*, email, full_name, roles, badge_number="", password=None, superuser=False):
    """Create (or update) a police staff account in the given roles.

    Returns (user, password); the password is generated when not given and must be handed to
    the person out of band. The account must set up MFA at first sign-in.
    """
    unknown = sorted(set(roles) - set(ROLE_NAMES))
    if unknown:
        raise ValueError(f"Unknown role(s): {', '.join(unknown)}. Roles are: {', '.join(ROLE_NAMES)}.")
    password = password or secrets.token_urlsafe(12)
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=password)
    else:
        user.set_password(password)
    user.full_name = full_name
    user.badge_number = badge_number
    user.account_type = User.AccountType.STAFF
    user.is_staff = True
    user.is_superuser = superuser
    user.save()
    user.groups.set(Group.objects.filter(name__in=roles))
    _mark_email_verified(user)
    return user, password


def _mark_email_verified(user):
    from allauth.account.models import EmailAddress

    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
