"""Passkeys in a real browser: Chromium's virtual authenticators (DevTools' WebAuthn domain) stand in for a
laptop's built-in passkey and a USB security key. http://localhost is a secure context, and the site's
passkeys are bound to "localhost", the host the live server is reached at."""

import pytest
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.test import Client

from conftest import screenshot_taker
from portal import roles
from portal.tests.factories import PASSWORD, StaffFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class VirtualAuthenticators:
    """Chromium's virtual authenticators for one page: add, remove, and move a credential between them."""

    def __init__(self, page):
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("WebAuthn.enable")

    def add(self, transport="internal"):
        options = {"protocol": "ctap2", "transport": transport, "hasResidentKey": True,
                   "hasUserVerification": True, "isUserVerified": True}
        return self.cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})["authenticatorId"]

    def credentials(self, authenticator_id):
        return self.cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"]

    def put(self, authenticator_id, credential):
        self.cdp.send("WebAuthn.addCredential", {"authenticatorId": authenticator_id, "credential": credential})

    def remove(self, authenticator_id):
        self.cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": authenticator_id})


def sign_in_with_password(page, email):
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()


def sign_out(page):
    page.goto("/accounts/logout/")
    page.locator("main form[action='/accounts/logout/'] button[type=submit]").click()
    page.wait_for_url("**/")


def add_passkey(page, name):
    page.goto("/accounts/2fa/webauthn/add/")
    page.get_by_label("Name of this passkey").fill(name)
    page.get_by_role("button", name="Add passkey").click()


def test_a_staff_member_signs_in_with_a_passkey_keeps_two_and_falls_back_on_recovery_codes(
        page, screenshot, console_errors):
    staff = StaffFactory(email="dana@police.example.org", full_name="Dana Reyes", badge_number="4411",
                         roles=[roles.OPERATOR])
    authenticators = VirtualAuthenticators(page)
    laptop = authenticators.add("internal")

    # First sign-in: no second factor yet, so the staff pages send Dana to choose one.
    sign_in_with_password(page, staff.email)
    page.get_by_role("heading", name="Two-Factor Authentication").wait_for()
    assert page.get_by_text("must protect their account with a passkey or an authenticator app").is_visible()
    screenshot("passkeys-choose-factor")
    page.get_by_role("link", name="Add a passkey").click()
    page.get_by_role("heading", name="Add a passkey").wait_for()
    page.get_by_label("Name of this passkey").fill("Work laptop")
    screenshot("passkeys-add")
    page.get_by_role("button", name="Add passkey").click()
    page.get_by_role("heading", name="Recovery Codes").wait_for()
    codes = Authenticator.objects.get(user=staff, type=Authenticator.Type.RECOVERY_CODES).wrap().get_unused_codes()

    # The same device cannot hold a second passkey of the account: the page says so.
    add_passkey(page, "Laptop again")
    page.get_by_text("This device already holds a passkey for your account").wait_for()
    assert page.locator("#passkey-error").evaluate("element => element === document.activeElement")
    screenshot("passkeys-add-refused")

    # A second passkey on a USB security key; the laptop's credential is set aside for later.
    laptop_credential = authenticators.credentials(laptop)[0]
    authenticators.remove(laptop)
    usb_key = authenticators.add("usb")
    add_passkey(page, "Key on my key ring")
    page.get_by_text("You have added 2 passkeys.").wait_for()  # back on the overview: the codes exist already
    page.goto("/accounts/2fa/webauthn/")
    rows = page.locator("[data-testid=passkey-list] li")
    assert rows.count() == 2
    assert "Work laptop" in rows.nth(0).inner_text() and "Key on my key ring" in rows.nth(1).inner_text()
    screenshot("passkeys-list")
    screenshot("passkeys-list", phone=True)

    # Sign out, and in again with the password and the security key.
    sign_out(page)
    sign_in_with_password(page, staff.email)
    page.get_by_role("button", name="Use my passkey").wait_for()
    screenshot("passkeys-sign-in-step")
    page.get_by_role("button", name="Use my passkey").click()
    page.wait_for_url("**/staff/")
    page.get_by_role("heading", name="Dana Reyes (#4411)").wait_for()

    # Remove the laptop's passkey.
    page.goto("/accounts/2fa/webauthn/")
    page.get_by_role("link", name="Remove Work laptop").click()
    page.get_by_role("heading", name="Remove passkey").wait_for()
    screenshot("passkeys-remove")
    page.get_by_role("button", name="Remove passkey").click()
    page.get_by_role("heading", name="Passkeys").wait_for()
    assert rows.count() == 1
    assert "Key on my key ring" in rows.nth(0).inner_text()

    # The last passkey cannot go while it is the only second factor.
    page.get_by_role("link", name="Remove Key on my key ring").click()
    page.get_by_text("is your only second factor").wait_for()
    screenshot("passkeys-remove-last-refused")
    assert page.get_by_role("button", name="Remove passkey").count() == 0

    # Recovery codes still let Dana in without any passkey.
    sign_out(page)
    authenticators.remove(usb_key)
    sign_in_with_password(page, staff.email)
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/staff/")

    # The removed laptop passkey, back on a device, is not one the site asks for: a clear refusal, no entry.
    sign_out(page)
    stale = authenticators.add("internal")
    authenticators.put(stale, laptop_credential)
    sign_in_with_password(page, staff.email)
    page.get_by_role("button", name="Use my passkey").click()
    page.get_by_text("No passkey was used").wait_for()
    screenshot("passkeys-sign-in-refused")
    page.goto("/staff/")
    assert "/staff/" not in page.url

    errors = [error for error in console_errors if "NotAllowedError" not in error and "InvalidStateError" not in error]
    assert errors == []


def test_the_passkey_pages_in_spanish(page, screenshot, console_errors):
    staff = StaffFactory(email="ana@police.example.org", full_name="Ana Ruiz", roles=[roles.OFFICER])
    VirtualAuthenticators(page).add("internal")
    sign_in_with_password(page, staff.email)
    add_passkey(page, "Portátil")
    page.get_by_role("heading", name="Recovery Codes").wait_for()
    sign_out(page)
    sign_in_with_password(page, staff.email)
    page.locator("#mfa_webauthn_authenticate").wait_for()

    page.get_by_label("Language").select_option("es")
    page.wait_for_function("document.documentElement.lang === 'es'")
    assert page.get_by_role("button", name="Iniciar sesión").is_visible()
    screenshot("passkeys-es-sign-in-step")
    page.locator("#mfa_webauthn_authenticate").click()
    page.wait_for_url("**/staff/")
    for path, name in [("/accounts/2fa/", "index"), ("/accounts/2fa/webauthn/", "list"),
                       ("/accounts/2fa/webauthn/add/", "add")]:
        page.goto(path)
        assert page.locator("html").get_attribute("lang") == "es"
        screenshot(f"passkeys-es-{name}")
    assert console_errors == []


def test_at_an_ip_address_the_page_says_passkeys_need_the_portals_name(browser, live_server, settings):
    # Chromium treats http://127.0.0.1 as a secure context, but a passkey's site must be a domain name.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "127.0.0.1"]
    staff = StaffFactory(email="lee@police.example.org", roles=[roles.OFFICER])
    context = browser.new_context(base_url=live_server.url.replace("localhost", "127.0.0.1"))
    page = context.new_page()
    VirtualAuthenticators(page).add("internal")

    sign_in_with_password(page, staff.email)
    add_passkey(page, "Laptop")

    page.get_by_text("Passkeys work only at the portal’s own address").wait_for(timeout=15_000)
    screenshot_taker(page)("passkeys-add-at-ip-address")
    assert not Authenticator.objects.filter(user=staff, type=Authenticator.Type.WEBAUTHN).exists()
    context.close()


def test_a_session_that_skipped_the_second_factor_confirms_with_the_passkey(page, live_server, screenshot,
                                                                            console_errors):
    staff = StaffFactory(email="kim@police.example.org", full_name="Kim Park", roles=[roles.OFFICER])
    VirtualAuthenticators(page).add("internal")
    sign_in_with_password(page, staff.email)
    add_passkey(page, "Laptop")
    page.get_by_role("heading", name="Recovery Codes").wait_for()
    # A session that began without the second factor (as before MFA was required), in the same browser.
    old_session = Client()
    old_session.force_login(staff)
    page.context.clear_cookies()
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": old_session.cookies[
        settings.SESSION_COOKIE_NAME].value, "url": live_server.url}])

    page.goto("/staff/")

    page.get_by_text("Confirm with your passkey to go on.").wait_for()
    assert "/accounts/2fa/webauthn/reauthenticate/" in page.url
    screenshot("passkeys-session-step")
    page.get_by_role("button", name="Use my passkey").click()
    page.wait_for_url("**/staff/")
    page.get_by_role("heading", name="Kim Park").wait_for()
    assert console_errors == []
