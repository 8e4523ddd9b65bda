"""Every page a person uses, in English and Spanish, checked in Chromium with axe-core for WCAG 2.2 A and AA:
no serious or critical violation. The pages are listed in portal/tests/accessibility.py, which a test here holds
against the URLconfs so that a new page cannot be missed."""

import pytest

from portal import roles
from portal.tests.accessibility import (
    LANGUAGES,
    SCREENS,
    SIGN_IN_CODE,
    browser_context,
    build_world,
    check_screen,
    named_urls,
    why_not_a_page,
)
from portal.tests.factories import PASSWORD, StaffFactory, totp_secret_for

# Pages with WebSockets (live incident map, video wall, RTCC) are checked on daphne, the others on the
# in-process live server, whose settings (DEBUG for the outbox) a test can change.
ON_DAPHNE = {"operator", "officer"}


def test_every_named_url_is_checked_or_excluded():
    checked = {screen.url_name for screens in SCREENS.values() for screen in screens} | {SIGN_IN_CODE.url_name}
    urls = named_urls()

    unchecked = sorted(name for name in urls - checked if why_not_a_page(name) is None)
    stale = sorted(name for name in checked - {""} if name not in urls)
    assert unchecked == [], ("Pages with no accessibility check: add them to portal/tests/accessibility.py "
                             f"(SCREENS, or NOT_PAGES with the reason): {unchecked}")
    assert stale == [], f"Checked URL names that no longer exist: {stale}"


@pytest.fixture
def world(asgi_live_server, settings, resident, business, operator, officer, supervisor, oversight, waivers,
          django_capture_on_commit_callbacks):
    # daphne starts first (asgi_live_server), with the real channel layer; the browser's event loop owns this
    # thread, so real-time events (async_to_sync) from here would fail.
    settings.CHANNEL_LAYERS = {}
    settings.EMAIL_BACKEND = "portal.mail.OutboxBackend"
    return build_world(owner=resident, business=business, operator=operator, officer=officer,
                       supervisor=supervisor, oversight=oversight, capture=django_capture_on_commit_callbacks)


USERS = {"public": None, "owner": "owner", "business": "business", "operator": "operator", "officer": "officer",
         "supervisor": "supervisor", "oversight": "oversight"}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("audience", list(SCREENS))
def test_pages_have_no_serious_accessibility_violations(request, browser, world, settings, audience, language):
    server = request.getfixturevalue("asgi_live_server" if audience in ON_DAPHNE else "live_server")
    user = getattr(world, USERS[audience]) if USERS[audience] else None
    context = browser_context(browser, server.url, language=language, user=user)
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems = []
    try:
        for screen in SCREENS[audience]:
            problems += check_screen(page, screen, world, language, settings)
    finally:
        context.close()
    assert problems == [], "\n".join(problems)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_sign_in_code_page_has_no_serious_accessibility_violations(browser, live_server, settings, language):
    staff = StaffFactory(email="dana@police.example.org", roles=[roles.OPERATOR])
    totp_secret_for(staff)  # makes the TOTP authenticator, so the sign-in asks for a code
    context = browser_context(browser, live_server.url, language=language)
    page = context.new_page()
    try:
        page.goto("/accounts/login/")
        page.locator("#id_login").fill(staff.email)
        page.locator("#id_password").fill(PASSWORD)
        page.locator("#id_password").press("Enter")
        page.wait_for_url("**/accounts/2fa/authenticate/")
        problems = check_screen(page, SIGN_IN_CODE, None, language, settings)
    finally:
        context.close()
    assert problems == [], "\n".join(problems)
