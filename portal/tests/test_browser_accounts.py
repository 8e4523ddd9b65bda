"""Real browser flows (Playwright driving Chromium): sign-up, verification from the outbox, sign-in."""


import pytest

from portal.models import User
from portal.tests.browser_helpers import confirm_from_outbox, fill_signup, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

def test_a_resident_signs_up_verifies_from_the_outbox_and_signs_in(page, live_server, dev_mail, screenshot,
                                                                   console_errors):
    page.goto("/")
    screenshot("landing")
    screenshot("landing", phone=True)
    page.get_by_role("link", name="Register your camera").first.click()
    fill_signup(page, email="rosa@example.org", name="Rosa Vecina")
    screenshot("signup")
    screenshot("signup", phone=True)
    page.get_by_role("button", name="Sign Up").click()
    page.get_by_role("heading", name="Verify Your Email Address").wait_for()

    confirm_from_outbox(page, "rosa@example.org")
    page.get_by_role("heading", name="Welcome, Rosa Vecina").wait_for()
    page.get_by_role("button", name="Rosa Vecina").click()
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "rosa@example.org")

    page.get_by_role("heading", name="Welcome, Rosa Vecina").wait_for()
    assert page.url == f"{live_server.url}/dashboard/"
    assert "E-mail address confirmed" in page.content()
    screenshot("dashboard")
    screenshot("dashboard", phone=True)
    assert console_errors == []


def test_a_business_signs_up_with_its_business_name(page, dev_mail):
    fill_signup(page, email="owner@bakery.example", name="Bo Baker", business="Bo's Bakery", phone="555-010-3030")
    page.get_by_role("button", name="Sign Up").click()
    page.get_by_role("heading", name="Verify Your Email Address").wait_for()
    confirm_from_outbox(page, "owner@bakery.example")

    page.get_by_role("heading", name="Welcome, Bo's Bakery").wait_for()
    assert "Business account" in page.content()
    user = User.objects.get(email="owner@bakery.example")
    assert (user.account_type, user.business_name, user.phone) == ("business", "Bo's Bakery", "555-010-3030")


def test_a_business_without_a_name_sees_the_error_and_keeps_its_input(page, dev_mail):
    fill_signup(page, email="nameless@example.org", name="No Name", business=" ")
    page.get_by_role("button", name="Sign Up").click()

    assert page.get_by_text("Businesses must give the business name.").is_visible()
    assert page.get_by_label("Email").input_value() == "nameless@example.org"
    assert page.get_by_label("A business or organisation").is_checked()
    assert not User.objects.filter(email="nameless@example.org").exists()


def test_the_phone_menu_opens_and_the_page_fits_375_pixels(page):
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto("/")

    page.get_by_role("button", name="Open the menu").click()
    page.locator("#main-nav").get_by_role("link", name="Sign in").wait_for(state="visible")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_the_language_switcher_translates_the_page(page):
    page.goto("/")

    page.get_by_label("Language").select_option("es")

    page.get_by_role("link", name="Registre su cámara").first.wait_for()
    assert page.locator("html").get_attribute("lang") == "es"


def test_the_api_docs_render_under_the_content_security_policy(page, console_errors):
    page.goto("/api/docs/")

    page.get_by_text("/api/v1/me/").first.wait_for()
    assert console_errors == []
