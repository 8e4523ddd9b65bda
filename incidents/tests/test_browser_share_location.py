"""Sharing an officer's location from a real browser, through share_location.js and /ws/units/me/."""

import pytest
from django.template.loader import render_to_string

from conftest import collect_errors
from incidents.models import UnitPosition
from portal.tests.browser_helpers import staff_sign_in
from portal.tests.factories import PASSWORD


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_officer_starts_and_stops_sharing(asgi_page, officer):
    page = asgi_page
    errors = collect_errors(page)
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation({"latitude": 40.7131, "longitude": -74.0052, "accuracy": 12})
    staff_sign_in(page, officer, PASSWORD)
    # The lead puts the include on the officers' phone page; here it is added to the staff home.
    include = render_to_string("incidents/includes/share_location.html")
    markup = include.split("<script")[0]
    page.evaluate("html => document.querySelector('main').insertAdjacentHTML('beforeend', html)", markup)
    page.add_script_tag(url="/static/js/share_location.js")
    status = page.locator("[data-share-location-status]")

    page.get_by_role("button", name="Share my location").click()

    status.filter(has_text="Sharing your location").wait_for()
    unit = UnitPosition.objects.get()
    assert (unit.call_sign, unit.officer_id, unit.latitude, unit.longitude) == (
        officer.badge_number, officer.pk, 40.7131, -74.0052)
    assert page.get_by_role("button", name="Stop sharing").get_attribute("aria-pressed") == "true"

    page.get_by_role("button", name="Stop sharing").click()

    status.filter(has_text="Stopped").wait_for()
    for _ in range(50):  # the server learns of the closed socket a moment later
        if not UnitPosition.objects.active().exists():
            break
        page.wait_for_timeout(100)
    assert not UnitPosition.objects.active().exists()
    assert errors == []


def test_the_include_loads_its_script_from_a_file():
    html = render_to_string("incidents/includes/share_location.html")

    assert '<script src="/static/js/share_location.js" defer></script>' in html
    assert html.count("<script") == 1
    assert 'data-socket-url="/ws/units/me/"' in html
    assert "data-share-location-status" in html
