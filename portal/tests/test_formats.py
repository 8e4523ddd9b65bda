"""Dates and numbers are written the way each language writes them, on pages and in e-mails."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core import mail
from django.utils import formats, timezone, translation

from portal.formats import PROJECT_FORMATS
from requests_app.tests.factories import IncidentFactory
from requests_app.tests.test_area_requests import LAT, LNG, owner_with_camera, send

MOMENT = datetime(2026, 12, 4, 13, 5, tzinfo=ZoneInfo("America/New_York"))


@pytest.mark.parametrize("language", [code for code, _name in settings.LANGUAGES])
@pytest.mark.parametrize("name", PROJECT_FORMATS)
def test_every_language_defines_every_project_format(language, name):
    # An undefined name would be used as the format itself and print letters of the date.
    assert formats.get_format(name, lang=language) != name


@pytest.mark.parametrize("name, english, spanish", [
    ("DAY_TIME_FORMAT", "Dec 4, 13:05", "4 dic, 13:05"),
    ("MEDIUM_DATE_FORMAT", "Dec 4, 2026", "4 dic 2026"),
    ("MEDIUM_DATETIME_FORMAT", "Dec 4, 2026 13:05", "4 dic 2026, 13:05"),
    ("DATE_FORMAT", "December 4, 2026", "4 de diciembre de 2026"),
    ("DATETIME_FORMAT", "December 4, 2026 13:05", "4 de diciembre de 2026, 13:05"),
    ("LONG_DATETIME_FORMAT", "Friday, December 4, 2026 13:05", "Viernes 4 de diciembre de 2026, 13:05"),
    ("MONTH_DAY_SHORT_FORMAT", "Dec 4", "4 dic"),
])
def test_dates_read_naturally_in_each_language(name, english, spanish):
    with translation.override("en"):
        assert formats.date_format(MOMENT, name) == english
    with translation.override("es"):
        assert formats.date_format(MOMENT, name) == spanish


def test_numbers_are_grouped_the_way_each_language_groups_them():
    with translation.override("en"):
        assert formats.number_format(12345.5, decimal_pos=1, force_grouping=True) == "12,345.5"
    with translation.override("es"):
        # Spanish groups thousands with a (non-breaking) space, as the RAE recommends.
        assert formats.number_format(12345.5, decimal_pos=1, force_grouping=True) == "12\xa0345,5"


@pytest.mark.django_db
def test_a_spanish_owner_gets_the_request_e_mail_in_spanish_with_spanish_dates(operator, waivers,
                                                                                django_capture_on_commit_callbacks):
    spanish = owner_with_camera(100)
    spanish.language = "es"
    spanish.save(update_fields=["language"])
    english = owner_with_camera(150)
    incident = IncidentFactory(latitude=LAT, longitude=LNG)

    with django_capture_on_commit_callbacks(execute=True):
        area_request = send(operator, incident)

    by_owner = {message.to[0]: message for message in mail.outbox}
    start = timezone.localtime(area_request.window_start)
    with translation.override("es"):
        spanish_start = formats.date_format(start, "LONG_DATETIME_FORMAT")
    with translation.override("en"):
        english_start = formats.date_format(start, "LONG_DATETIME_FORMAT")
    text, html = by_owner[spanish.email].body, by_owner[spanish.email].alternatives[0][0]
    assert spanish_start in text and spanish_start in html and " de " in spanish_start
    assert english_start in by_owner[english.email].body
    # The words are Spanish too, not only the dates.
    assert text.startswith("Hola, ") and "El Departamento de Policía" in text
