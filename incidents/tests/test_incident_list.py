"""The staff incident list: what each row shows, and what a row costs (bench/load.py found it the slowest page)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from incidents.models import Incident
from requests_app.models import AreaRequest
from requests_app.tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db


def area_requests(incident, sender, count):
    for _ in range(count):
        AreaRequest.objects.create(incident=incident, latitude=incident.latitude, longitude=incident.longitude,
                                   radius_m=200, window_start=incident.window_start, window_end=incident.window_end,
                                   case_number=incident.case_number, sender=sender, status=AreaRequest.Status.SENT)


def incidents(count, sender, requests_each=2):
    made = IncidentFactory.create_batch(count, incident_type=Incident.Type.ROBBERY,
                                        priority=Incident.Priority.EMERGENCY)
    for incident in made:
        area_requests(incident, sender, requests_each)
    return made


@pytest.fixture
def translations(monkeypatch):
    """Counts the translations looked up (every gettext, also those of lazy strings) while the test runs."""
    calls = []
    real = translation._trans.gettext

    def counting(message):
        calls.append(message)
        return real(message)

    monkeypatch.setattr(translation._trans, "gettext", counting)
    return calls


def test_each_row_shows_the_incident_and_how_many_area_requests_it_has(client, operator, login):
    quiet, busy = IncidentFactory(address="1 Quiet St"), IncidentFactory(address="2 Busy St")
    area_requests(busy, operator, 3)
    login(client, operator)

    response = client.get("/staff/incidents/")

    counts = {incident.pk: incident.area_request_count for incident in response.context["incidents"]}
    assert counts == {quiet.pk: 0, busy.pk: 3}
    row = response.content.decode().split(busy.reference)[1].split("</tr>")[0]
    assert "Burglary" in row and "Open" in row and '<td data-label="Requests">3</td>' in row


def test_an_officer_counts_only_the_area_requests_of_their_incidents_once(client, officer, operator, login):
    mine = IncidentFactory()
    mine.assigned_officers.add(officer, operator)  # another assignee must not double the count
    area_requests(mine, operator, 2)
    area_requests(IncidentFactory(), operator, 1)
    login(client, officer)

    response = client.get("/staff/incidents/")

    assert [(incident.pk, incident.area_request_count) for incident in response.context["incidents"]] == [(mine.pk, 2)]


def test_the_list_is_newest_first_and_translated(client, operator, login):
    older = IncidentFactory()
    Incident.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(days=1))
    newer = IncidentFactory(incident_type=Incident.Type.VEHICLE_THEFT)
    login(client, operator)

    response = client.get("/staff/incidents/", headers={"accept-language": "es"})

    assert [incident.pk for incident in response.context["incidents"]] == [newer.pk, older.pk]
    page = response.content.decode()
    assert "Robo de vehículo" in page and '<td data-label="Solicitudes">0</td>' in page and "Abierto" in page


def test_the_list_runs_the_same_queries_for_forty_incidents_as_for_one(client, operator, login,
                                                                        django_assert_max_num_queries):
    login(client, operator)
    incidents(1, operator)
    with CaptureQueriesContext(connection) as one:
        client.get("/staff/incidents/")
    incidents(40, operator)

    with django_assert_max_num_queries(len(one)):
        response = client.get("/staff/incidents/")

    assert len(response.context["incidents"]) == 41


def test_a_row_of_the_list_looks_up_at_most_three_translations(client, operator, login, translations):
    # get_incident_type_display() translated all eleven type names on every call, and each row translated its
    # six column names again: about 20 look-ups a row, most of the page's time with 70 incidents.
    login(client, operator)
    incidents(1, operator)
    client.get("/staff/incidents/")
    translations.clear()
    client.get("/staff/incidents/")
    one = len(translations)
    incidents(40, operator)
    translations.clear()

    response = client.get("/staff/incidents/")

    assert len(response.context["incidents"]) == 41
    assert (len(translations) - one) / 40 <= 3  # the type, the status and the month's abbreviation
