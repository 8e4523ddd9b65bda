"""Staff must set up and pass a second factor (here TOTP; passkeys in test_passkeys.py) before any staff page or
the admin opens."""

import pyotp
import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse

from portal.mfa import SESSION_KEY
from portal.tests.factories import PASSWORD, totp_code, totp_secret_for

pytestmark = pytest.mark.django_db


def sign_in_with_password(client, user):
    return client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})


@pytest.mark.parametrize("url_name", ["portal:staff_home", "admin:index", "portal:account"])
def test_staff_without_a_second_factor_are_sent_to_set_one_up(client, operator, url_name):
    sign_in_with_password(client, operator)

    response = client.get(reverse(url_name))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_index"))


def test_staff_api_without_mfa_is_refused_with_json(client, operator):
    sign_in_with_password(client, operator)

    response = client.get(reverse("api-me"))

    assert response.status_code == 403
    assert "authenticator" in response.json()["detail"]


@pytest.mark.django_db(transaction=True)  # allauth confirms the new authenticator on commit
def test_staff_sets_up_totp_and_gets_in(client, operator):
    sign_in_with_password(client, operator)
    activate_page = client.get(reverse("mfa_activate_totp"))
    secret = activate_page.context["form"].secret

    response = client.post(reverse("mfa_activate_totp"), {"code": pyotp.TOTP(secret).now()})

    assert response.status_code == 302
    assert Authenticator.objects.filter(user=operator, type=Authenticator.Type.TOTP).exists()
    assert client.get(reverse("portal:staff_home")).status_code == 200
    assert client.get(reverse("admin:index")).status_code == 200


def test_staff_with_totp_must_enter_a_code_at_sign_in(client, operator):
    secret = totp_secret_for(operator)

    response = sign_in_with_password(client, operator)

    assert response["Location"] == reverse("mfa_authenticate")
    assert client.get(reverse("portal:staff_home")).status_code == 302  # not signed in yet
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert response["Location"] == reverse("portal:staff_home")
    assert client.get(reverse("portal:staff_home")).status_code == 200


def test_a_wrong_code_keeps_staff_out(client, operator):
    secret = totp_secret_for(operator)
    sign_in_with_password(client, operator)
    wrong = f"{(int(totp_code(secret)) + 1) % 1_000_000:06d}"

    response = client.post(reverse("mfa_authenticate"), {"code": wrong})

    assert response.status_code == 200
    assert "code" in response.context["form"].errors
    assert client.get(reverse("portal:staff_home")).status_code == 302


def test_session_that_skipped_mfa_is_sent_to_the_second_factor_step(client, operator):
    secret = totp_secret_for(operator)
    client.force_login(operator)  # e.g. a session that began before MFA was required

    response = client.get(reverse("portal:staff_home"))

    assert response["Location"].startswith(reverse("mfa_reauthenticate"))
    response = client.post(reverse("mfa_reauthenticate"), {"code": totp_code(secret)})
    assert response.status_code == 302, response.context["form"].errors
    assert client.session[SESSION_KEY] == str(operator.pk)
    assert client.get(reverse("portal:staff_home")).status_code == 200


def test_owners_are_not_asked_for_mfa(client, resident):
    sign_in_with_password(client, resident)

    assert client.get(reverse("portal:dashboard")).status_code == 200


def test_staff_cannot_remove_their_authenticator(client, operator, login):
    login(client, operator)
    authenticator = Authenticator.objects.get(user=operator, type=Authenticator.Type.TOTP)

    client.post(reverse("mfa_deactivate_totp"), {"code": totp_code(totp_secret_for(operator))})

    assert Authenticator.objects.filter(pk=authenticator.pk).exists()


def test_admin_login_goes_through_the_portal_sign_in(client):
    response = client.get("/admin/login/?next=/admin/portal/user/")

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next=%2Fadmin%2Fportal%2Fuser%2F"


def test_admin_login_ignores_an_offsite_next(client):
    response = client.get("/admin/login/?next=https://evil.example.com/")

    assert response["Location"] == f"{reverse('account_login')}?next=%2Fadmin%2F"
