import factory
from allauth.account.models import EmailAddress
from allauth.mfa.adapter import get_adapter
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.contrib.auth.models import Group

from portal.models import User

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    full_name = factory.Faker("name")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def verified(user, create, extracted, **kwargs):
        if create and extracted is not False:
            EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)


class OwnerFactory(UserFactory):
    account_type = User.AccountType.RESIDENT


class StaffFactory(UserFactory):
    account_type = User.AccountType.STAFF
    is_staff = True
    badge_number = factory.Sequence(lambda n: str(1000 + n))

    @factory.post_generation
    def roles(user, create, extracted, **kwargs):
        if create and extracted:
            user.groups.set(Group.objects.filter(name__in=extracted))


def totp_secret_for(user):
    """The user's TOTP secret, creating the authenticator if the user has none yet."""
    authenticator = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if authenticator is None:
        authenticator = TOTP.activate(user, generate_totp_secret()).instance
    return get_adapter().decrypt(authenticator.data["secret"])


def totp_code(secret, at=None):
    import time

    counter = int((at or time.time()) // 30)
    return format_hotp_value(hotp_value(secret, counter))


def totp_code_for(user):
    return totp_code(totp_secret_for(user))


def sign_waiver(user):
    """Sign the waiver now in force for the user, as they would on the waiver page."""
    from portal.models import Waiver
    from portal.services import waiver_sign

    return waiver_sign(user=user, waiver=Waiver.objects.current_for(user), typed_name=user.full_name, agreed=True,
                       ip_address="203.0.113.7", user_agent="pytest")
