"""Writes for accounts and staff. Keyword-only, atomic; views and forms call these."""

import secrets

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

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


@transaction.atomic
def waiver_create(*, audience, title, body, actor):
    """A draft waiver: the next version number for its audience, not yet in force."""
    from portal.models import Waiver

    last = Waiver.objects.select_for_update().filter(audience=audience).order_by("-version").first()
    return Waiver.objects.create(audience=audience, title=title, body=body, created_by=actor,
                                 version=(last.version + 1) if last else 1)


@transaction.atomic
def waiver_publish(*, waiver, actor, ip_address=None):
    """Put a draft in force. Owners of that audience must sign it again before anything is shared."""
    from portal.audit import audit_record
    from portal.models import Waiver

    if waiver.is_published:
        raise ValidationError(_("Version %(version)s is already published.") % {"version": waiver.version})
    Waiver.objects.filter(audience=waiver.audience, is_current=True).update(is_current=False)
    waiver.published_at, waiver.published_by, waiver.is_current = timezone.now(), actor, True
    waiver.save(update_fields=["published_at", "published_by", "is_current"])
    audit_record(action="waiver.published", actor=actor, target=f"waiver:{waiver.pk}", ip_address=ip_address,
                 details={"audience": waiver.audience, "version": waiver.version, "sha256": waiver.text_sha256})
    return waiver


@transaction.atomic
def waiver_sign(*, user, waiver, typed_name, agreed, ip_address=None, user_agent=""):
    """Record the user's signature of the waiver now in force for them."""
    from portal.audit import audit_record
    from portal.models import Waiver, WaiverSignature

    errors = {}
    if Waiver.objects.current_for(user) != waiver:
        errors["waiver"] = _("This is not the agreement now in force; reload the page and read the current one.")
    if not agreed:
        errors["agreed"] = _("Tick the box to confirm that you agree.")
    if _normalise_name(typed_name) != _normalise_name(user.full_name) or not typed_name.strip():
        errors["typed_name"] = _("Type your full name exactly as on your account: %(name)s.") % {
            "name": user.full_name}
    if errors:
        raise ValidationError(errors)
    if WaiverSignature.objects.filter(user=user, waiver=waiver).exists():
        return WaiverSignature.objects.get(user=user, waiver=waiver)
    signature = WaiverSignature.objects.create(
        user=user, waiver=waiver, text_sha256=waiver.text_sha256, typed_name=typed_name.strip(),
        ip_address=ip_address, user_agent=user_agent[:400],
    )
    audit_record(action="waiver.signed", actor=user, target=f"waiver:{waiver.pk}", ip_address=ip_address,
                 details={"version": waiver.version, "sha256": signature.text_sha256})
    return signature


def _normalise_name(name):
    return " ".join(name.split()).casefold()


@transaction.atomic
def account_close(*, user, ip_address=None):
    """Leave the program: remove every camera, withdraw the requests still open, deactivate the account,
    and e-mail the owner what police keep and until when.

    Footage already given stays with the incident it was given for, under the retention rules
    (requests_app/retention.py); its deletion receipts still go to this e-mail address. The audit trail
    is kept.
    """
    from cameras.services import camera_delete
    from portal.audit import audit_record
    from requests_app.models import FootageRequest

    for camera in list(user.cameras.all()):
        camera_delete(camera=camera, actor=user, ip_address=ip_address)
    # Open requests can no longer be answered: their e-mailed links stop working. A request the owner
    # approved and gave footage for keeps its answer, so the chain of custody still reads "approved".
    open_requests = FootageRequest.objects.filter(owner=user, status__in=[
        FootageRequest.Status.PENDING, FootageRequest.Status.OPENED, FootageRequest.Status.APPROVED])
    open_requests.filter(submissions__isnull=False).update(token_hash=None)
    open_requests.filter(submissions__isnull=True).update(status=FootageRequest.Status.EXPIRED, token_hash=None)
    audit_record(action="account.closed", actor=user, target=f"user:{user.pk}", ip_address=ip_address)
    user.is_active = False
    user.set_unusable_password()
    user.save(update_fields=["is_active", "password"])
    user_id = user.pk
    transaction.on_commit(lambda: _account_closed_email(user_id))


def footage_kept_after_closing(user, now=None):
    """The files the owner gave that police still keep, each with `.retention` (its state and date)."""
    from requests_app.models import FootageSubmission
    from requests_app.retention import State, with_retention

    kept = (State.HELD, State.KEPT_OPEN_CASE, State.SCHEDULED, State.DUE, State.BEING_CHECKED)
    return [each for each in with_retention(FootageSubmission.objects.given_by(user), now)
            if each.retention.code in kept]


def _account_closed_email(user_id):
    import logging

    from django.core.mail import send_mail
    from django.template.loader import render_to_string
    from django.utils import translation

    user = User.objects.get(pk=user_id)
    context = {"owner": user, "kept": footage_kept_after_closing(user), "CITY_NAME": settings.CITY_NAME,
               "PROGRAM_NAME": settings.PROGRAM_NAME, "no_case_days": settings.RETENTION_NO_CASE_DAYS,
               "evidence_days": settings.EVIDENCE_RETENTION_DAYS}
    with translation.override(user.language or settings.LANGUAGE_CODE):
        subject = _("Your account is closed: what police keep")
        body = render_to_string("portal/email/account_closed.txt", context)
    try:
        send_mail(subject, body, None, [user.email])
    except Exception:  # the account is closed either way; the page said the same
        logging.getLogger(__name__).exception("Account-closed e-mail to user %s failed", user_id)


@transaction.atomic
def live_view_notice_set(*, user, notice, ip_address=None):
    """Choose how the owner hears of live views (portal/notices.py); audited as "notices.changed"."""
    from portal.audit import audit_record

    if not user.is_owner:
        raise ValidationError({"live_view_notice": _("Only camera owners choose live-view notices.")})
    if notice not in User.LiveViewNotice.values:
        raise ValidationError({"live_view_notice": _("Choose one of: %(choices)s.") % {
            "choices": ", ".join(User.LiveViewNotice.values)}})
    previous = user.live_view_notice
    if previous == notice:
        return user
    user.live_view_notice = notice
    user.save(update_fields=["live_view_notice"])
    audit_record(action="notices.changed", actor=user, camera_owner=user, target=f"user:{user.pk}",
                 ip_address=ip_address, details={"live_view_notice": notice, "previous": previous})
    return user


def account_data_export(*, user, export_format, ip_address=None):
    """Record that the owner downloaded their data (the view then streams it; portal/owner_data.py)."""
    from portal.audit import audit_record

    if not user.is_owner:
        raise PermissionDenied("Only camera owners download their data here.")
    return audit_record(action="account.data_exported", actor=user, camera_owner=user, target=f"user:{user.pk}",
                        ip_address=ip_address, details={"format": export_format})
