"""Passkeys (WebAuthn) as the staff's second factor, beside TOTP, with recovery codes: through the real views,
answered by a software passkey whose signatures the server checks for real (portal/tests/passkeys.py)."""

import json
import re

import pytest
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils.html import escape

from portal.forms import PASSKEY_NOT_ACCEPTED, PASSKEY_NOT_ADDED
from portal.mfa import staff_session_ok
from portal.tests.factories import PASSWORD, OwnerFactory, StaffFactory, totp_code, totp_secret_for
from portal.tests.passkeys import SoftPasskey

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _localhost(settings):
    # A passkey's site is the host the browser shows; fido2 accepts http:// only for localhost.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]


@pytest.fixture
def browser_client():
    return Client(HTTP_HOST="localhost")


def js_data(response):
    """What allauth's script reads from the page: the options for the browser's passkey request."""
    match = re.search(r'<script id="js_data" type="application/json">(.*?)</script>', response.content.decode(), re.S)
    return json.loads(match.group(1))


def sign_in_with_password(client, user):
    return client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})


def add_passkey(client, name, device=None):
    device = device or SoftPasskey()
    options = js_data(client.get(reverse("mfa_add_webauthn")))["creation_options"]
    credential = json.dumps(device.create(options))
    return device, client.post(reverse("mfa_add_webauthn"), {"name": name, "credential": credential})


def answer_sign_in_step(client, device):
    options = js_data(client.get(reverse("mfa_authenticate")))["request_options"]
    return client.post(reverse("mfa_authenticate"), {"credential": json.dumps(device.get(options))})


def passkeys_of(user):
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.WEBAUTHN)


@pytest.fixture
def operator_with_passkey(browser_client, operator):
    """An operator who signed in with the password and added one passkey (and so, recovery codes)."""
    sign_in_with_password(browser_client, operator)
    device, response = add_passkey(browser_client, "Work laptop")
    assert response.status_code == 302, response.context["form"].errors
    return operator, device


def test_a_new_staff_member_is_sent_to_choose_a_second_factor(browser_client, operator):
    sign_in_with_password(browser_client, operator)

    response = browser_client.get(reverse("portal:staff_home"))

    assert response["Location"].startswith(reverse("mfa_index"))
    page = browser_client.get(reverse("mfa_index")).content.decode()
    assert "Add a passkey" in page
    assert reverse("mfa_activate_totp") in page


def test_adding_a_passkey_satisfies_the_staff_rule_and_makes_recovery_codes(operator_with_passkey, browser_client):
    operator, _ = operator_with_passkey

    assert passkeys_of(operator).get().wrap().name == "Work laptop"
    assert Authenticator.objects.filter(user=operator, type=Authenticator.Type.RECOVERY_CODES).exists()
    assert browser_client.get(reverse("portal:staff_home")).status_code == 200


def test_staff_with_only_a_passkey_sign_in_with_password_and_passkey(operator_with_passkey):
    operator, device = operator_with_passkey
    client = Client(HTTP_HOST="localhost")

    response = sign_in_with_password(client, operator)

    assert response["Location"] == reverse("mfa_authenticate")
    page = client.get(reverse("mfa_authenticate")).content.decode()
    assert "Use my passkey" in page
    assert client.get(reverse("portal:staff_home")).status_code == 302  # not signed in yet
    response = answer_sign_in_step(client, device)
    assert response["Location"] == reverse("portal:staff_home")
    assert client.get(reverse("portal:staff_home")).status_code == 200
    assert client.get(reverse("api-me")).status_code == 200
    assert staff_session_ok(client.session, operator)  # the WebSocket consumers' check
    assert passkeys_of(operator).get().last_used_at is not None


def test_recovery_codes_still_let_a_passkey_only_staff_member_in(operator_with_passkey):
    operator, _ = operator_with_passkey
    codes = Authenticator.objects.get(user=operator, type=Authenticator.Type.RECOVERY_CODES).wrap().get_unused_codes()
    client = Client(HTTP_HOST="localhost")
    sign_in_with_password(client, operator)

    response = client.post(reverse("mfa_authenticate"), {"code": codes[0]})

    assert response["Location"] == reverse("portal:staff_home")
    assert client.get(reverse("portal:staff_home")).status_code == 200


def test_a_passkey_answer_made_for_a_look_alike_site_is_refused(operator_with_passkey):
    operator, device = operator_with_passkey
    device.origin = "https://camera-portal-signin.example.net"  # a phishing page relaying the challenge
    client = Client(HTTP_HOST="localhost")
    sign_in_with_password(client, operator)

    response = answer_sign_in_step(client, device)

    assert response.status_code == 200
    assert escape(str(PASSKEY_NOT_ACCEPTED)) in response.content.decode()
    assert client.get(reverse("portal:staff_home")).status_code == 302


def test_a_passkey_of_another_account_is_refused(operator_with_passkey, officer):
    operator, operators_device = operator_with_passkey
    officer_client = Client(HTTP_HOST="localhost")
    sign_in_with_password(officer_client, officer)
    add_passkey(officer_client, "Officer's key")
    officer_client.post(reverse("account_logout"))
    sign_in_with_password(officer_client, officer)

    response = answer_sign_in_step(officer_client, operators_device)

    assert escape(str(PASSKEY_NOT_ACCEPTED)) in response.content.decode()
    assert officer_client.get(reverse("portal:staff_home")).status_code == 302


def test_a_registration_made_for_another_site_adds_nothing(browser_client, operator):
    sign_in_with_password(browser_client, operator)

    _, response = add_passkey(browser_client, "Phished", SoftPasskey(origin="https://evil.example.net"))

    assert response.status_code == 200
    assert escape(str(PASSKEY_NOT_ADDED)) in response.content.decode()
    assert not passkeys_of(operator).exists()


def test_a_session_that_skipped_mfa_is_sent_to_the_passkey_step(operator_with_passkey):
    operator, device = operator_with_passkey
    client = Client(HTTP_HOST="localhost")
    client.force_login(operator)  # e.g. a session that began before MFA was required

    response = client.get(reverse("portal:staff_home"))

    assert response["Location"].startswith(reverse("mfa_reauthenticate_webauthn"))
    options = js_data(client.get(response["Location"]))["request_options"]
    response = client.post(reverse("mfa_reauthenticate_webauthn"), {"credential": json.dumps(device.get(options))})
    assert response.status_code == 302
    assert client.get(reverse("portal:staff_home")).status_code == 200


def test_staff_register_several_passkeys_name_them_and_remove_one(operator_with_passkey, browser_client):
    operator, _ = operator_with_passkey
    add_passkey(browser_client, "Key on my key ring")
    laptop = passkeys_of(operator).get(data__name="Work laptop")

    response = browser_client.post(reverse("mfa_edit_webauthn", args=[laptop.pk]), {"name": "Old laptop"})
    assert response.status_code == 302
    listing = browser_client.get(reverse("mfa_list_webauthn")).content.decode()
    assert "Old laptop" in listing
    assert "Key on my key ring" in listing
    browser_client.post(reverse("mfa_remove_webauthn", args=[laptop.pk]))

    assert [key.wrap().name for key in passkeys_of(operator)] == ["Key on my key ring"]


def test_staff_cannot_remove_their_last_passkey_without_another_factor(operator_with_passkey, browser_client):
    operator, _ = operator_with_passkey
    passkey = passkeys_of(operator).get()

    page = browser_client.get(reverse("mfa_remove_webauthn", args=[passkey.pk])).content.decode()
    response = browser_client.post(reverse("mfa_remove_webauthn", args=[passkey.pk]), follow=True)

    assert "is your only second factor" in page
    assert passkeys_of(operator).filter(pk=passkey.pk).exists()
    assert "must keep a second factor" in response.content.decode()


def test_staff_with_a_passkey_may_drop_the_authenticator_app(operator_with_passkey, browser_client):
    operator, _ = operator_with_passkey
    secret = totp_secret_for(operator)

    browser_client.post(reverse("mfa_deactivate_totp"), {"code": totp_code(secret)})

    assert not Authenticator.objects.filter(user=operator, type=Authenticator.Type.TOTP).exists()
    assert passkeys_of(operator).exists()


def test_staff_with_the_app_may_remove_their_last_passkey(operator_with_passkey, browser_client):
    operator, _ = operator_with_passkey
    totp_secret_for(operator)

    browser_client.post(reverse("mfa_remove_webauthn", args=[passkeys_of(operator).get().pk]))

    assert not passkeys_of(operator).exists()


def test_an_owner_may_remove_their_only_passkey(browser_client):
    owner = OwnerFactory(email="owner@example.org")
    sign_in_with_password(browser_client, owner)
    add_passkey(browser_client, "Phone")

    browser_client.post(reverse("mfa_remove_webauthn", args=[passkeys_of(owner).get().pk]))

    assert not Authenticator.objects.filter(user=owner).exists()  # recovery codes go with the last factor


@pytest.mark.parametrize("url_name", ["mfa_edit_webauthn", "mfa_remove_webauthn"])
def test_nobody_sees_renames_or_removes_someone_elses_passkey(operator_with_passkey, url_name):
    operator, _ = operator_with_passkey
    passkey = passkeys_of(operator).get()
    other = StaffFactory(email="other@police.example.org")
    client = Client(HTTP_HOST="localhost")
    sign_in_with_password(client, other)
    add_passkey(client, "Mine")

    assert client.get(reverse(url_name, args=[passkey.pk])).status_code == 404
    assert client.post(reverse(url_name, args=[passkey.pk]), {"name": "Taken"}).status_code == 404
    passkey.refresh_from_db()
    assert passkey.wrap().name == "Work laptop"


def test_signed_out_visitors_are_sent_to_sign_in(browser_client, operator_with_passkey):
    operator, _ = operator_with_passkey
    passkey = passkeys_of(operator).get()
    stranger = Client(HTTP_HOST="localhost")

    for url in [reverse("mfa_list_webauthn"), reverse("mfa_add_webauthn"),
                reverse("mfa_remove_webauthn", args=[passkey.pk])]:
        response = stranger.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


def test_passkeys_are_a_second_factor_only_and_never_skip_the_origin_check(client):
    assert "webauthn" in mfa_settings.SUPPORTED_TYPES
    assert mfa_settings.PASSKEY_LOGIN_ENABLED is False
    assert mfa_settings.PASSKEY_SIGNUP_ENABLED is False
    assert mfa_settings.WEBAUTHN_ALLOW_INSECURE_ORIGIN is False
    with pytest.raises(NoReverseMatch):
        reverse("mfa_login_webauthn")
    assert "passkey" not in client.get(reverse("account_login")).content.decode().lower()


def test_the_passkey_scripts_are_served_by_the_portal(operator, browser_client):
    sign_in_with_password(browser_client, operator)

    page = browser_client.get(reverse("mfa_add_webauthn")).content.decode()

    sources = re.findall(r'<script src="([^"]+)"', page)
    assert {"/static/mfa/js/webauthn.js", "/static/mfa/js/webauthn-json.js", "/static/js/passkeys.js"} <= set(sources)
    assert all(source.startswith("/static/") for source in sources)
    for source in sources:
        assert finders.find(source.removeprefix("/static/")), source


def test_a_new_passkey_is_offered_a_numbered_name(operator_with_passkey, browser_client):
    page = browser_client.get(reverse("mfa_add_webauthn"))

    assert page.context["form"]["name"].value() == "Passkey 2"


@pytest.mark.parametrize("url_name", ["mfa_add_webauthn", "mfa_view_recovery_codes", "mfa_index"])
def test_a_session_that_skipped_mfa_cannot_add_a_passkey_or_read_codes_to_get_past_it(operator_with_passkey,
                                                                                      url_name):
    operator, _ = operator_with_passkey
    client = Client(HTTP_HOST="localhost")
    client.force_login(operator)
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})  # the password alone

    response = client.get(reverse(url_name))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_reauthenticate_webauthn"))
    response = client.post(reverse("mfa_add_webauthn"), {"name": "Intruder", "credential": "{}"})
    assert response["Location"].startswith(reverse("mfa_reauthenticate_webauthn"))
    assert passkeys_of(operator).count() == 1
    assert client.get(reverse("portal:staff_home")).status_code == 302


def test_a_wrong_passkey_at_the_session_step_says_so_and_keeps_the_staff_pages_shut(operator_with_passkey):
    operator, _ = operator_with_passkey
    client = Client(HTTP_HOST="localhost")
    client.force_login(operator)
    step = client.get(reverse("portal:staff_home"))["Location"]
    options = js_data(client.get(step))["request_options"]

    response = client.post(reverse("mfa_reauthenticate_webauthn"),
                           {"credential": json.dumps(stranger_answer(options))}, follow=True)

    assert escape(str(PASSKEY_NOT_ACCEPTED)) in response.content.decode()
    assert response.redirect_chain[-1][0].startswith(reverse("mfa_reauthenticate_webauthn"))
    assert client.get(reverse("portal:staff_home")).status_code == 302


def stranger_answer(options):
    """A signed answer from a passkey this site has never seen."""
    device = SoftPasskey()
    device.user_handle = b"1"
    return device.get(options)
