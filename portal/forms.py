import re

from allauth.mfa.webauthn.forms import (
    AddWebAuthnForm,
    AuthenticateWebAuthnForm,
    EditWebAuthnForm,
    ReauthenticateWebAuthnForm,
)
from django import forms
from django.core.exceptions import ValidationError
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from portal.mfa import has_passkey
from portal.models import User
from portal.services import user_complete_signup, user_update_profile

PHONE_PATTERN = re.compile(r"^\+?[0-9 ().\-]{7,24}$")


def clean_phone_number(value):
    value = value.strip()
    if value and (not PHONE_PATTERN.match(value) or len(re.sub(r"\D", "", value)) < 7):
        raise ValidationError(_("Enter a phone number with at least 7 digits, for example 555-010-1234."))
    return value


class OwnerDetailsMixin(forms.Form):
    """The fields residents and businesses share between sign-up and their account page."""

    full_name = forms.CharField(label=_("Your full name"), max_length=150)
    account_type = forms.ChoiceField(
        label=_("I am registering cameras as"),
        choices=[(User.AccountType.RESIDENT, _("A resident (home cameras)")),
                 (User.AccountType.BUSINESS, _("A business or organisation"))],
        widget=forms.RadioSelect,
        initial=User.AccountType.RESIDENT,
    )
    business_name = forms.CharField(
        label=_("Business name"), max_length=200, required=False,
        help_text=_("Required for businesses. Shown to police staff with your cameras."),
    )
    phone = forms.CharField(
        label=_("Phone"), max_length=32, required=False,
        help_text=_("Required for businesses, optional for residents. Used only about your cameras."),
    )

    def clean_phone(self):
        return clean_phone_number(self.cleaned_data.get("phone", ""))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("account_type") == User.AccountType.BUSINESS:
            if not cleaned.get("business_name", "").strip():
                self.add_error("business_name", _("Businesses must give the business name."))
            if not cleaned.get("phone") and "phone" not in self.errors:
                self.add_error("phone", _("Businesses must give a phone number police can call."))
        return cleaned


class SignupForm(OwnerDetailsMixin):
    """Extra sign-up fields; allauth adds e-mail and password and calls signup()."""

    field_order = ["full_name", "account_type", "business_name", "phone", "email", "password1", "password2"]

    def signup(self, request, user):
        user_complete_signup(
            user=user,
            full_name=self.cleaned_data["full_name"],
            account_type=self.cleaned_data["account_type"],
            business_name=self.cleaned_data["business_name"],
            phone=self.cleaned_data["phone"],
            language=getattr(request, "LANGUAGE_CODE", ""),
        )


class ProfileForm(OwnerDetailsMixin):
    def save(self, user):
        return user_update_profile(user=user, **self.cleaned_data)


class StaffProfileForm(forms.Form):
    full_name = forms.CharField(label=_("Your full name"), max_length=150)
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)

    def clean_phone(self):
        return clean_phone_number(self.cleaned_data.get("phone", ""))

    def save(self, user):
        return user_update_profile(user=user, **self.cleaned_data)


class WaiverSignForm(forms.Form):
    typed_name = forms.CharField(label=_("Type your full name to sign"), max_length=150)
    agreed = forms.BooleanField(label=_("I have read this agreement and I agree to it."), required=False)


class LiveViewNoticeForm(forms.Form):
    live_view_notice = forms.ChoiceField(
        label=_("When police watch one of my cameras live"), choices=User.LiveViewNotice.choices,
        widget=forms.RadioSelect,
        help_text=_("Applies to the cameras whose rules say to tell you of live views. "
                    "Every view is in your access log whatever you choose."),
    )


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.staff_label} · {obj.email}"


class OversightFilterForm(forms.Form):
    """The audit browser's filters (GET). Every field is optional; empty means "any"."""

    staff = StaffChoiceField(label=_("Staff member"), required=False, empty_label=_("Anyone"),
                             queryset=User.objects.staff().order_by("full_name", "email"))
    incident = forms.CharField(label=_("Incident reference"), max_length=64, required=False)
    camera = forms.CharField(label=_("Camera (number or name)"), max_length=100, required=False)
    owner = forms.CharField(label=_("Camera owner (name or e-mail)"), max_length=150, required=False)
    action = forms.ChoiceField(label=_("Action"), required=False)
    outcome = forms.ChoiceField(label=_("Outcome"), required=False, choices=[
        ("", _("Any outcome")), ("allowed", _("Allowed")), ("refused", _("Refused")),
        ("recorded", _("Recorded (no decision)"))])
    date_from = forms.DateField(label=_("From (date)"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    date_to = forms.DateField(label=_("Until (date, included)"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def __init__(self, *args, **kwargs):
        from portal.oversight import action_choices

        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", _("Any action")), *action_choices()]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end date is before the start date: choose a later end date."))
        return cleaned


# --- Passkeys (allauth's WebAuthn forms, through MFA_FORMS) -------------------------------------

PASSKEY_NAME_HELP = _("To tell your passkeys apart, for example “Work laptop” or “Key on my key ring”.")
PASSKEY_NOT_ACCEPTED = _("That passkey was not accepted: it is not one registered to this account for this site. "
                         "Try another passkey, or enter a code from your authenticator app or a recovery code.")
PASSKEY_NOT_ADDED = _("The passkey could not be added: the browser's answer did not match this page. "
                      "Reload the page and try again.")


def _renamed_incorrect_code(error, message):
    # allauth says "Incorrect code." for every refused passkey answer, which reads as a typing mistake.
    return ValidationError(message, code=error.code) if error.code == "incorrect_code" else error


class PasskeyAnswerMixin:
    def clean_credential(self):
        try:
            return super().clean_credential()
        except ValidationError as error:
            raise _renamed_incorrect_code(error, PASSKEY_NOT_ACCEPTED) from error

    @cached_property
    def has_passkeys(self):
        """Whether the person signing in has a passkey to offer (the page shows the passkey button first)."""
        return has_passkey(self.user)


class PasskeyAuthenticateForm(PasskeyAnswerMixin, AuthenticateWebAuthnForm):
    """The passkey step at sign-in."""


class PasskeyReauthenticateForm(PasskeyAnswerMixin, ReauthenticateWebAuthnForm):
    """The passkey step of a signed-in session (staff sessions that have not passed a second factor)."""


class PasskeyAddForm(AddWebAuthnForm):
    """Registering a passkey, with a name to tell several apart."""

    name = forms.CharField(label=_("Name of this passkey"), max_length=100, required=False, help_text=PASSKEY_NAME_HELP)

    def clean(self):
        try:
            return super().clean()
        except ValidationError as error:
            raise _renamed_incorrect_code(error, PASSKEY_NOT_ADDED) from error


class PasskeyEditForm(EditWebAuthnForm):
    """Renaming a passkey."""

    name = forms.CharField(label=_("Name of this passkey"), max_length=100, help_text=PASSKEY_NAME_HELP)
