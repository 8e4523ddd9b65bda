import pytest

pytestmark = pytest.mark.django_db


def test_the_browser_language_chooses_spanish(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9")

    page = response.content.decode()
    assert '<html lang="es">' in page
    assert "Registre su cámara" in page


def test_english_is_the_default(client):
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="de").content.decode()

    assert '<html lang="en">' in page
    assert "Register your camera" in page


def test_the_switcher_overrides_the_browser_and_is_remembered_for_the_user(client, resident, login):
    login(client, resident)

    client.post("/i18n/setlang/", {"language": "es", "next": "/dashboard/"})
    page = client.get("/dashboard/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert '<html lang="es">' in page
    resident.refresh_from_db()
    assert resident.language == "es"


def test_account_pages_are_translated(client):
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="es").content.decode()

    assert "Iniciar sesión" in page or "Inicie sesión" in page


def test_an_unknown_language_is_ignored(client, resident, login):
    login(client, resident)

    client.post("/i18n/setlang/", {"language": "xx", "next": "/"})

    resident.refresh_from_db()
    assert resident.language == ""


def test_date_and_time_fields_keep_the_browsers_format_in_spanish(client, operator, login):
    import re

    from requests_app.tests.factories import IncidentFactory

    incident = IncidentFactory()
    login(client, operator)

    page = client.get(f"/staff/incidents/{incident.pk}/", HTTP_ACCEPT_LANGUAGE="es").content.decode()

    values = re.findall(r'<input type="datetime-local" name="window_(?:start|end)" value="([^"]*)"', page)
    assert len(values) == 2
    # A datetime-local field shows only an ISO value; "04/12/2026 10:55:00" would leave it empty.
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d", value) for value in values), values
