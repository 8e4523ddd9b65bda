"""The camera form's address search in a real browser: an owner types an address, picks a suggestion
with the keyboard, the pin and the coordinates follow, and the camera is saved there; also with the
script turned off, and when the search is unavailable."""

import io

import pytest
from django.core.management import call_command

from cameras.models import Camera
from portal.tests.browser_helpers import PASSWORD, sign_in
from portal.tests.factories import OwnerFactory, sign_waiver

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEADER = "LON,LAT,NUMBER,STREET,UNIT,CITY,DISTRICT,REGION,POSTCODE,ID,HASH\n"
ADDRESSES = HEADER + (
    "-74.0074831,40.7136633,1815,Market St,,Riverton,,NY,10563,,a1\n"
    "-74.0076011,40.7136633,1825,Market St,,Riverton,,NY,10563,,a2\n"
    "-74.0081942,40.7139331,1854,Market St,,Riverton,,NY,10563,,a3\n"
    "-74.0031000,40.7101000,1815,Maple St,,Riverton,,NY,10562,,a4\n"
)


@pytest.fixture
def owner(waivers, tmp_path):
    user = OwnerFactory(email="rosa@example.org", full_name="Rosa Vecina", password=PASSWORD)
    sign_waiver(user)
    path = tmp_path / "addresses.csv"
    path.write_text(ADDRESSES)
    call_command("import_addresses", str(path), stdout=io.StringIO())
    return user


def pin_offset_from_map_centre(page):
    """Pixels between the pin's tip and the map's centre (the map pans to a chosen address)."""
    return page.evaluate("""() => {
        const map = document.getElementById("location-map").getBoundingClientRect();
        const pin = document.querySelector(".camera-pin").getBoundingClientRect();
        const dx = pin.left + pin.width / 2 - (map.left + map.width / 2);
        return Math.hypot(dx, pin.bottom - (map.top + map.height / 2));
    }""")


def test_an_owner_finds_the_address_picks_it_by_keyboard_and_saves_the_camera(page, owner, screenshot,
                                                                             console_errors):
    sign_in(page, "rosa@example.org")
    page.goto("/cameras/new/")
    address = page.get_by_role("combobox", name="Address")
    status = page.get_by_role("status").filter(has_text="Suggestions")
    suggestions = page.get_by_role("listbox", name="Suggestions")

    address.press_sequentially("1815 ma", delay=30)
    suggestions.get_by_role("option", name="1815 Market St, Riverton 10563").wait_for()
    assert "Suggestions: 2." in status.inner_text()
    assert suggestions.get_by_role("option").count() == 2
    screenshot("address-suggestions")
    screenshot("address-suggestions", phone=True)

    address.press("ArrowDown")
    assert suggestions.get_by_role("option", selected=True).inner_text() == "1815 Maple St, Riverton 10562"
    address.press("ArrowDown")
    assert suggestions.get_by_role("option", selected=True).inner_text() == "1815 Market St, Riverton 10563"
    assert address.get_attribute("aria-activedescendant") == "address-suggestions-1"
    screenshot("address-keyboard")
    address.press("Enter")

    assert address.input_value() == "1815 Market St, Riverton 10563"
    assert page.get_by_label("Latitude").input_value() == "40.713663"
    assert page.get_by_label("Longitude").input_value() == "-74.007483"
    assert suggestions.is_hidden()
    page.get_by_text("Pin moved to 1815 Market St, Riverton 10563.").wait_for()
    page.locator(".camera-pin").wait_for()
    page.wait_for_function("() => !document.querySelector('.leaflet-pan-anim')")
    page.wait_for_timeout(400)  # the pan's animation
    assert pin_offset_from_map_centre(page) < 3
    assert page.url.endswith("/cameras/new/")  # Enter chose the address; it did not send the form
    screenshot("address-chosen")
    screenshot("address-chosen", phone=True)

    page.get_by_label("Camera name").fill("Shop door")
    page.get_by_label("Entrance").check()
    page.get_by_role("button", name="Register and set my rules").click()
    page.get_by_role("heading", name="Rules for “Shop door”").wait_for()

    camera = Camera.objects.get(owner=owner)
    assert (camera.address, camera.latitude, camera.longitude) == ("1815 Market St, Riverton 10563", 40.713663,
                                                                   -74.007483)
    assert console_errors == []


def test_the_find_button_searches_and_says_when_nothing_matches(page, owner, console_errors):
    sign_in(page, "rosa@example.org")
    page.goto("/cameras/new/")
    address = page.get_by_role("combobox", name="Address")

    address.fill("99 Nowhere Blvd")
    page.get_by_role("button", name="Find").click()
    page.get_by_text("No address found. Check the spelling, or click the map.").wait_for()

    address.fill("1854 market")
    page.get_by_role("button", name="Find").click()
    page.get_by_role("listbox", name="Suggestions").get_by_role("option", name="1854 Market St, Riverton 10563").click()
    assert page.get_by_label("Latitude").input_value() == "40.713933"
    assert console_errors == []


def test_an_unavailable_search_says_so_and_the_coordinates_can_still_be_typed(page, owner, settings):
    settings.GEOCODER, settings.GEOCODER_URL, settings.GEOCODER_TIMEOUT_SECONDS = "nominatim", "http://127.0.0.1:9", 1
    sign_in(page, "rosa@example.org")
    page.goto("/cameras/new/")

    page.get_by_role("combobox", name="Address").fill("1815 Market St")
    page.get_by_role("button", name="Find").click()
    page.get_by_text("Address search is unavailable right now.").wait_for()
    page.get_by_label("Latitude").fill("40.7137")
    page.get_by_label("Longitude").fill("-74.0075")
    page.get_by_label("Camera name").fill("Porch")
    page.get_by_role("button", name="Register and set my rules").click()
    page.get_by_role("heading", name="Rules for “Porch”").wait_for()

    assert Camera.objects.get(owner=owner).address == "1815 Market St"


def test_without_javascript_the_form_takes_a_typed_address_and_coordinates(browser, live_server, owner, screenshot):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, "rosa@example.org")
        page.goto("/cameras/new/")
        assert page.get_by_role("button", name="Find").is_hidden()
        assert page.get_by_role("combobox", name="Address").count() == 0

        page.get_by_label("Address").fill("1815 Market St")
        page.get_by_label("Latitude").fill("40.713663")
        page.get_by_label("Longitude").fill("-74.007483")
        page.get_by_label("Camera name").fill("Porch")
        page.get_by_role("button", name="Register and set my rules").click()
        page.get_by_role("heading", name="Rules for “Porch”").wait_for()
    finally:
        context.close()

    camera = Camera.objects.get(owner=owner)
    assert (camera.address, camera.latitude) == ("1815 Market St", 40.713663)
