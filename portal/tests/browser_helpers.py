"""Steps shared by the browser tests."""

import re

PASSWORD = "lantern-orchard-41"


def fill_signup(page, *, email, name, business=None, phone=""):
    page.goto("/accounts/signup/")
    page.get_by_label("Your full name").fill(name)
    if business:
        page.get_by_label("A business or organisation").check()
        page.get_by_label("Business name").fill(business)
    page.get_by_label("Phone").fill(phone)
    page.get_by_label("Email").fill(email)
    page.locator("#id_password1").fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)


def confirm_from_outbox(page, email):
    page.goto("/dev/outbox/")
    page.get_by_role("link", name=re.compile("Please Confirm Your Email Address")).first.click()
    assert email in page.locator("dl").inner_text()
    page.locator("[data-testid=outbox-body] a[href*='/accounts/confirm-email/']").click()
    page.get_by_role("button", name="Confirm").click()


def sign_in(page, email):
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()


def staff_sign_in(page, user, password):
    """Sign a staff member in through the real form and second factor (the TOTP device is created if needed)."""
    from portal.tests.factories import totp_code, totp_secret_for

    secret = totp_secret_for(user)
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign In").click()
    page.get_by_label("Code").fill(totp_code(secret))
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/staff/")
