"""Date and time formats per language (settings.FORMAT_MODULE_PATH), on top of Django's own.

Templates name a format instead of spelling one out, so Spanish reads "Viernes 4 de diciembre de
2026, 13:30" where English reads "Friday, December 4, 2026 13:30":

    {{ moment|date:"DAY_TIME_FORMAT" }}

Beside Django's names (DATE_FORMAT, DATETIME_FORMAT, MONTH_DAY_FORMAT...), each language here
defines the project's own: DAY_TIME_FORMAT (a day this year and a time), MONTH_DAY_SHORT_FORMAT,
MEDIUM_DATE_FORMAT (abbreviated month) and MEDIUM_DATETIME_FORMAT, LONG_DATETIME_FORMAT (with the
weekday, for e-mails). Every language in settings.LANGUAGES must define all of them
(portal/tests/test_formats.py checks); times are on the 24-hour clock everywhere.
"""

PROJECT_FORMATS = ("DAY_TIME_FORMAT", "MONTH_DAY_SHORT_FORMAT", "MEDIUM_DATE_FORMAT", "MEDIUM_DATETIME_FORMAT",
                   "LONG_DATETIME_FORMAT")
