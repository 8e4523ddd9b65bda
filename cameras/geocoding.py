"""Address search for placing a camera: a geocoder chosen by settings.GEOCODER.

"local" searches the addresses imported from an OpenAddresses file (address_import(), run by
`manage.py import_addresses`); "nominatim" asks a Nominatim-compatible server at GEOCODER_URL.
Both answer geocode(query) with at most five Place(label, lat, lng), best first, or raise
GeocoderUnavailable with a message for the person searching.
"""

import csv
import hashlib
import json
import math
import re
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import urlencode

import urllib3
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from cameras.models import Address

RESULT_LIMIT = 5
NOMINATIM_CACHE_SECONDS = 24 * 3600
NOMINATIM_MAX_BYTES = 1024 * 1024
IMPORT_BATCH_SIZE = 1000

# Common street-address abbreviations and their full words: "12 N Main St" and "12 North Main
# Street" are one address. Both the stored addresses and the query are normalised the same way.
ABBREVIATIONS = {
    "st": "street", "str": "street", "ave": "avenue", "av": "avenue", "rd": "road", "blvd": "boulevard",
    "dr": "drive", "ln": "lane", "ct": "court", "pl": "place", "sq": "square", "ter": "terrace",
    "terr": "terrace", "pkwy": "parkway", "hwy": "highway", "cir": "circle", "trl": "trail", "aly": "alley",
    "expy": "expressway", "fwy": "freeway", "plz": "plaza", "xing": "crossing", "hts": "heights", "mt": "mount",
    "ft": "fort", "n": "north", "s": "south", "e": "east", "w": "west", "ne": "northeast", "nw": "northwest",
    "se": "southeast", "sw": "southwest", "apt": "apartment", "ste": "suite", "fl": "floor", "bldg": "building",
}
_NOT_A_WORD = re.compile(r"[^0-9a-z]+")


class GeocoderUnavailable(Exception):
    """The address search could not answer; the message says so to the person searching."""


@dataclass(frozen=True)
class Place:
    label: str
    lat: float
    lng: float

    def as_json(self):
        return {"label": self.label, "lat": round(self.lat, 6), "lng": round(self.lng, 6)}


def _plain_words(text):
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return [word for word in _NOT_A_WORD.split(plain.replace("'", "")) if word]


def normalise_words(text):
    """Lower-case words without accents or punctuation, abbreviations in full: "12 N. Main St": 12 north main street"""
    return [ABBREVIATIONS.get(word, word) for word in _plain_words(text)]


def _padded(words):
    return f" {' '.join(words)} "


# --- The local backend --------------------------------------------------------------------------

class LocalGeocoder:
    """Searches the imported addresses: the typed words as the start of an address read number first
    ("12 main st"), then street first ("main st 12"), then every word anywhere ("main riverton")."""

    def search(self, query, *, limit=RESULT_LIMIT):
        words = normalise_words(query)
        if not words:
            return []
        # An unfinished last word ("12 main str") matches as the start of a word; "st" may also be
        # the start of "stanley", so the word as typed is tried beside its written-out form.
        last_is_partial = not query[-1:].isspace()
        raw_last = _plain_words(query)[-1]
        prefixes = {" " + " ".join(words) + ("" if last_is_partial else " ")}
        if last_is_partial and raw_last and raw_last != words[-1]:
            prefixes.add(" " + " ".join([*words[:-1], raw_last]))
        found = []
        searches = (
            lambda: Address.objects.number_first(sorted(prefixes)),
            lambda: Address.objects.street_first(sorted(prefixes)),
            lambda: Address.objects.containing_words(words, last_is_partial=last_is_partial),
        )
        for search in searches:
            seen = {address.pk for address in found}
            found += [address for address in search().exclude(pk__in=seen)[:limit - len(found)]]
            if len(found) >= limit:
                break
        return [Place(address.label, address.latitude, address.longitude) for address in found]


# --- The Nominatim backend ----------------------------------------------------------------------

_http = urllib3.PoolManager(num_pools=4, maxsize=4, retries=False)


def city_viewbox():
    """(west, south, east, north): GEOCODER_VIEWBOX, or a square of GEOCODER_RADIUS_M around the map centre."""
    if settings.GEOCODER_VIEWBOX:
        return tuple(settings.GEOCODER_VIEWBOX)
    if not settings.GEOCODER_RADIUS_M:
        return None
    lat, lng = (float(value) for value in settings.LEAFLET_CONFIG["DEFAULT_CENTER"])
    dlat = settings.GEOCODER_RADIUS_M / 111_195
    dlng = settings.GEOCODER_RADIUS_M / (111_195 * max(math.cos(math.radians(lat)), 0.01))
    return (max(lng - dlng, -180), max(lat - dlat, -90), min(lng + dlng, 180), min(lat + dlat, 90))


@dataclass
class NominatimGeocoder:
    """A Nominatim-compatible /search endpoint (Nominatim itself, Photon's Nominatim mode, LocationIQ...)."""

    url: str
    timeout_seconds: float
    viewbox: tuple | None = None
    user_agent: str = field(default_factory=lambda: f"{settings.PROGRAM_NAME} ({settings.SITE_URL})")

    def search(self, query, *, limit=RESULT_LIMIT):
        params = {"q": query, "format": "jsonv2", "limit": limit}
        if self.viewbox:
            params.update(viewbox=",".join(f"{value:.6f}" for value in self.viewbox), bounded=1)
        headers = {"User-Agent": self.user_agent, "Accept": "application/json",
                   "Accept-Language": translation.get_language() or settings.LANGUAGE_CODE}
        try:
            response = _http.request("GET", f"{self.url.rstrip('/')}/search?{urlencode(params)}", headers=headers,
                                     timeout=urllib3.Timeout(total=self.timeout_seconds), preload_content=False)
            body = response.read(NOMINATIM_MAX_BYTES + 1)
            if len(body) > NOMINATIM_MAX_BYTES:
                response.close()  # the rest is never read: the connection cannot be reused
            else:
                response.release_conn()
        except (urllib3.exceptions.HTTPError, OSError) as error:
            raise _unavailable() from error
        if response.status != 200 or len(body) > NOMINATIM_MAX_BYTES:
            raise _unavailable()
        try:
            return [Place(str(item["display_name"]), float(item["lat"]), float(item["lon"]))
                    for item in json.loads(body)[:limit]]
        except (ValueError, KeyError, TypeError) as error:
            raise _unavailable() from error


def _unavailable():
    return GeocoderUnavailable(_("Address search is unavailable right now. Click the map or type the latitude "
                                 "and longitude instead."))


# --- Choosing the backend -----------------------------------------------------------------------

def geocoder():
    """The backend settings.GEOCODER names, read at each call so that a changed setting applies at once."""
    if settings.GEOCODER == "nominatim":
        return NominatimGeocoder(url=settings.GEOCODER_URL, timeout_seconds=settings.GEOCODER_TIMEOUT_SECONDS,
                                 viewbox=city_viewbox())
    return LocalGeocoder()


def geocode(query, *, limit=RESULT_LIMIT):
    """At most `limit` places matching the typed address, best first; raises GeocoderUnavailable."""
    backend = geocoder()
    if not isinstance(backend, NominatimGeocoder):
        return backend.search(query, limit=limit)
    # A public Nominatim asks its users to cache answers; a day is short for street addresses.
    key = "geocode:" + hashlib.sha256(
        json.dumps([backend.url, backend.viewbox, translation.get_language(), query.strip().lower(), limit])
        .encode()).hexdigest()
    places = cache.get(key)
    if places is None:
        places = backend.search(query, limit=limit)
        cache.set(key, places, NOMINATIM_CACHE_SECONDS)
    return places


# --- Importing OpenAddresses files --------------------------------------------------------------

REQUIRED_COLUMNS = ("LON", "LAT", "NUMBER", "STREET")
OPTIONAL_COLUMNS = ("UNIT", "CITY", "DISTRICT", "REGION", "POSTCODE", "ID", "HASH")


class AddressFileError(Exception):
    """The file cannot be imported at all (not a CSV of addresses); nothing was changed."""


@dataclass
class ImportReport:
    read: int = 0
    imported: int = 0
    already_present: int = 0
    replaced: int = 0
    skipped: dict = field(default_factory=dict)  # reason: count

    @property
    def skipped_total(self):
        return sum(self.skipped.values())


def _tidy(value, limit, *, words=False):
    """Collapse spaces; words written in capitals ("MAIN ST", common in OpenAddresses) are title-cased."""
    value = " ".join((value or "").split())
    if words and value.isupper():
        value = value.title()
    return value[:limit]


def _coordinate(text, bound):
    number = float(text)
    if not math.isfinite(number) or abs(number) > bound:
        raise ValueError
    return number


def _address_from_row(row):
    """An unsaved Address from one CSV row, or the reason (a short English phrase for the report) it is skipped."""
    try:
        lng, lat = _coordinate(row.get("LON") or "", 180), _coordinate(row.get("LAT") or "", 90)
    except ValueError:
        return None, "coordinates missing or out of range"
    if lat == 0 and lng == 0:
        return None, "coordinates missing or out of range"
    number, street = _tidy(row.get("NUMBER"), 32), _tidy(row.get("STREET"), 200, words=True)
    if not number or not street:
        return None, "no number or no street"
    unit, postcode = _tidy(row.get("UNIT"), 64, words=True), _tidy(row.get("POSTCODE"), 20)
    city = _tidy(row.get("CITY"), 100, words=True)
    number_words, street_words = normalise_words(number), normalise_words(street)
    if not number_words or not street_words:
        return None, "no number or no street"
    # The region ("NY") is searchable, not shown: people type "Riverton, NY" out of habit.
    rest = normalise_words(" ".join((unit, city, _tidy(row.get("REGION"), 50), postcode)))
    key = (row.get("HASH") or "").strip().lower()[:64] or hashlib.sha256(
        json.dumps([number, street, unit, city, postcode, round(lat, 7), round(lng, 7)]).encode()).hexdigest()
    return Address(number=number, street=street, unit=unit, city=city, postcode=postcode, latitude=lat,
                   longitude=lng, search_text=_padded(number_words + street_words + rest),
                   street_text=_padded(street_words + number_words + rest), source_key=key), None


def _save_batch(batch):
    # Rows already stored (same source_key, from an earlier run or earlier in this file) are left alone.
    Address.objects.bulk_create(batch, batch_size=IMPORT_BATCH_SIZE, ignore_conflicts=True)
    batch.clear()


@transaction.atomic
def address_import(*, lines, replace=False):
    """Import an OpenAddresses-style CSV (LON,LAT,NUMBER,STREET,UNIT,CITY,DISTRICT,REGION,POSTCODE,ID,HASH).

    `lines` is an iterable of text lines (an open file), read as a stream. Rows without usable
    coordinates, number or street are skipped and counted by reason; rows already imported (same
    HASH, or the same values) are left as they are. With replace=True every stored address is
    removed first. One transaction: a file that cannot be read leaves the table as it was.
    """
    reader = csv.DictReader(lines)
    try:
        columns = {(name or "").strip().upper() for name in reader.fieldnames or []}
    except (csv.Error, UnicodeDecodeError) as error:
        raise AddressFileError(f"The file is not a readable CSV ({error}).") from None
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise AddressFileError(f"The file has no {', '.join(missing)} column: an OpenAddresses CSV starts with "
                               f"the header {','.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)}.")
    report = ImportReport()
    if replace:
        report.replaced, _deleted = Address.objects.all().delete()
    stored_before, valid, batch = Address.objects.count(), 0, []
    try:
        for row in reader:
            report.read += 1
            address, reason = _address_from_row({(k or "").strip().upper(): v for k, v in row.items()
                                                 if isinstance(v, str)})
            if address is None:
                report.skipped[reason] = report.skipped.get(reason, 0) + 1
                continue
            valid += 1
            batch.append(address)
            if len(batch) >= IMPORT_BATCH_SIZE:
                _save_batch(batch)
    except (csv.Error, UnicodeDecodeError) as error:
        raise AddressFileError(f"Line {reader.line_num} cannot be read ({error}).") from None
    if batch:
        _save_batch(batch)
    report.imported = Address.objects.count() - stored_before
    report.already_present = valid - report.imported
    return report
