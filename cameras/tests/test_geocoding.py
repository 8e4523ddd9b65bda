"""Address search: the local backend over imported OpenAddresses files, the import command, the
Nominatim backend against a real HTTP server on 127.0.0.1, and the /cameras/geocode/ endpoint."""

import gzip
import io
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command

from cameras.geocoding import (
    GeocoderUnavailable,
    NominatimGeocoder,
    city_viewbox,
    geocode,
    normalise_words,
)
from cameras.models import Address
from portal.env import env_choice, env_viewbox
from portal.tests.test_settings import run_manage

pytestmark = pytest.mark.django_db

HEADER = "LON,LAT,NUMBER,STREET,UNIT,CITY,DISTRICT,REGION,POSTCODE,ID,HASH\n"
TOWN = HEADER + (
    "-74.0060,40.7128,12,Main St,,Riverton,,NY,10561,,h-main-12\n"
    "-74.0061,40.7129,120,Main St,,Riverton,,NY,10561,,h-main-120\n"
    "-74.0062,40.7130,1200,Main St,,Riverton,,NY,10561,,h-main-1200\n"
    "-74.0070,40.7140,12,N Main St,,Riverton,,NY,10563,,h-nmain-12\n"
    "-74.0080,40.7150,12,Stanley Rd,,Riverton,,NY,10563,,h-stanley-12\n"
    "-74.0090,40.7160,7,Oak Ave,Apt 2,Riverton,,NY,10562,,h-oak-7-2\n"
    "-74.0091,40.7161,7,OAK AVE,,RIVERTON,,NY,10562,,h-oak-7\n"
    "-74.0100,40.7170,3,Calle Peñalosa,,Riverton,,NY,10562,,h-penalosa-3\n"
)


def write(tmp_path, text, name="addresses.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def run(*args):
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def town(tmp_path):
    run("import_addresses", write(tmp_path, TOWN))


def labels(query):
    return [place.label for place in geocode(query)]


# --- Normalising and matching ------------------------------------------------------------------

def test_normalising_ignores_case_punctuation_accents_and_abbreviations():
    assert normalise_words("12 N. Main St.") == normalise_words("12 north MAIN street") == [
        "12", "north", "main", "street"]
    assert normalise_words("Calle Peñalosa, Apt #3") == ["calle", "penalosa", "apartment", "3"]


def test_an_address_typed_with_abbreviations_finds_the_full_words(town):
    assert labels("12 North Main Street") == ["12 N Main St, Riverton 10563"]
    assert labels("12 n. main st") == ["12 N Main St, Riverton 10563"]


def test_the_exact_number_comes_before_longer_numbers(town):
    # Best first: the address starting with the words, then one that has them all ("12 N Main St").
    assert labels("12 Main St") == ["12 Main St, Riverton 10561", "12 N Main St, Riverton 10563"]
    assert labels("12 main")[:1] == ["12 Main St, Riverton 10561"]
    assert labels("120 main") == ["120 Main St, Riverton 10561"]


def test_the_street_typed_first_finds_its_numbers(town):
    assert labels("main street 12") == ["12 Main St, Riverton 10561", "120 Main St, Riverton 10561",
                                        "1200 Main St, Riverton 10561", "12 N Main St, Riverton 10563"]


def test_an_unfinished_last_word_matches_the_start_of_a_word(town):
    assert labels("12 Main Str")[0] == "12 Main St, Riverton 10561"
    # "st" is the start of Stanley, and short for street.
    assert labels("12 st") == ["12 Stanley Rd, Riverton 10563", "12 Main St, Riverton 10561",
                               "12 N Main St, Riverton 10563"]
    assert labels("12 sta") == ["12 Stanley Rd, Riverton 10563"]


def test_words_anywhere_in_the_address_match_when_no_address_starts_with_them(town):
    assert labels("stanley riverton") == ["12 Stanley Rd, Riverton 10563"]
    assert labels("oak 10562") == ["7 Oak Ave, Apt 2, Riverton 10562", "7 Oak Ave, Riverton 10562"]
    assert labels("7 oak ave riverton ny") == ["7 Oak Ave, Riverton 10562", "7 Oak Ave, Apt 2, Riverton 10562"]


def test_accents_do_not_matter(town):
    assert labels("3 calle penalosa") == labels("3 Calle Peñalosa") == ["3 Calle Peñalosa, Riverton 10562"]


def test_at_most_five_results_come_back(tmp_path):
    rows = "".join(f"-74.0{n:03d},40.7,{n},Elm St,,Riverton,,NY,,,h{n}\n" for n in range(1, 30))
    run("import_addresses", write(tmp_path, HEADER + rows))

    assert labels("elm st") == [f"{n} Elm St, Riverton" for n in (1, 10, 11, 12, 13)]


def test_nothing_matching_gives_an_empty_list(town):
    assert labels("99 Nowhere Blvd") == []
    assert labels("!!!") == []


def test_the_place_carries_the_coordinates(town):
    place = geocode("1200 main st")[0]

    assert (place.lat, place.lng) == (40.7130, -74.0062)
    assert place.as_json() == {"label": "1200 Main St, Riverton 10561", "lat": 40.713, "lng": -74.0062}


# --- The import command --------------------------------------------------------------------------

def test_importing_a_good_file_stores_every_address(tmp_path):
    output = run("import_addresses", write(tmp_path, TOWN))

    assert "Read 8 rows: imported 8, already present 0, skipped 0." in output
    oak = Address.objects.get(source_key="h-oak-7")
    assert (oak.number, oak.street, oak.unit, oak.city, oak.postcode) == ("7", "Oak Ave", "", "Riverton", "10562")
    assert (oak.latitude, oak.longitude) == (40.7161, -74.0091)
    assert oak.search_text == " 7 oak avenue riverton ny 10562 "
    assert oak.street_text == " oak avenue 7 riverton ny 10562 "


def test_bad_rows_are_skipped_and_counted_by_reason(tmp_path):
    bad = HEADER + (
        "-74.0060,40.7128,12,Main St,,Riverton,,NY,10561,,good\n"
        "-74.0060,95.0,13,Main St,,Riverton,,NY,10561,,lat-out-of-range\n"
        "-200,40.7,14,Main St,,Riverton,,NY,10561,,lng-out-of-range\n"
        "east,40.7,15,Main St,,Riverton,,NY,10561,,not-a-number\n"
        ",,16,Main St,,Riverton,,NY,10561,,empty\n"
        "0,0,17,Main St,,Riverton,,NY,10561,,null-island\n"
        "nan,40.7,18,Main St,,Riverton,,NY,10561,,nan\n"
        "-74.0060,40.7128,,Main St,,Riverton,,NY,10561,,no-number\n"
        "-74.0060,40.7128,19,,,Riverton,,NY,10561,,no-street\n"
        "-74.0060,40.7128,20\n"
    )

    output = run("import_addresses", write(tmp_path, bad))

    assert "Read 10 rows: imported 1, already present 0, skipped 9." in output
    assert "skipped 6: coordinates missing or out of range" in output
    assert "skipped 3: no number or no street" in output
    assert list(Address.objects.values_list("source_key", flat=True)) == ["good"]


def test_importing_the_same_file_again_adds_nothing(tmp_path):
    path = write(tmp_path, TOWN)
    run("import_addresses", path)

    output = run("import_addresses", path)

    assert "Read 8 rows: imported 0, already present 8, skipped 0." in output
    assert Address.objects.count() == 8


def test_rows_without_a_hash_are_recognised_by_their_values(tmp_path):
    path = write(tmp_path, HEADER + "-74.0060,40.7128,12,Main St,,Riverton,,NY,10561,,\n" * 2)

    assert "imported 1, already present 1" in run("import_addresses", path)
    assert "imported 0, already present 2" in run("import_addresses", path)


def test_replace_removes_the_addresses_stored_before(tmp_path):
    run("import_addresses", write(tmp_path, TOWN))
    other = HEADER + "-73.9,40.8,5,River Rd,,Riverton,,NY,10564,,h-river-5\n"

    output = run("import_addresses", write(tmp_path, other, "other.csv"), "--replace")

    assert "Removed 8 addresses stored before." in output
    assert list(Address.objects.values_list("source_key", flat=True)) == ["h-river-5"]


def test_a_file_without_the_columns_changes_nothing(tmp_path):
    run("import_addresses", write(tmp_path, TOWN))

    with pytest.raises(CommandError, match="no LON, LAT column.*Nothing was imported"):
        run("import_addresses", write(tmp_path, "X,Y,NUMBER,STREET\n1,2,3,Main\n", "wrong.csv"), "--replace")

    assert Address.objects.count() == 8


def test_a_file_broken_halfway_leaves_nothing_half_imported(tmp_path):
    run("import_addresses", write(tmp_path, TOWN))
    good_rows = "".join(f"-74.0,40.7,{n},Long St,,Riverton,,NY,,,long-{n}\n" for n in range(2500))
    path = tmp_path / "broken.csv"
    path.write_bytes((HEADER + good_rows).encode() + b"-74.0,40.7,1,Bad \xff\xfe St,,,,,,,bad\n")

    with pytest.raises(CommandError, match="cannot be read.*Nothing was imported"):
        run("import_addresses", str(path), "--replace")

    # Two batches had been written before the bad line: rolled back, and the old addresses kept.
    assert Address.objects.count() == 8
    assert not Address.objects.filter(street="Long St").exists()


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="Cannot read .*missing.csv: No such file or directory"):
        run("import_addresses", str(tmp_path / "missing.csv"))


def test_a_gzipped_file_is_read_too(tmp_path):
    path = tmp_path / "addresses.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as file:
        file.write(TOWN)

    assert "imported 8" in run("import_addresses", str(path))


def test_capitals_are_tidied_and_spaces_collapsed(tmp_path):
    run("import_addresses", write(tmp_path, HEADER + "-74.0,40.7, 40 ,  MAPLE   ST ,APT 3,RIVERTON,,NY,SW1A 1AA,,h\n"))

    address = Address.objects.get()
    assert address.label == "40 Maple St, Apt 3, Riverton SW1A 1AA"


def test_the_demo_file_is_imported_by_seed_demo():
    output = run("seed_demo")

    assert Address.objects.count() > 2000
    assert "address search knows" in output
    assert labels("1815 market st") == ["1815 Market St, Riverton 10563"]
    from cameras.models import Camera

    # Demo cameras stand at demo addresses, so searching a camera's address finds its spot.
    camera = Camera.objects.exclude(owner__email__in=["resident@example.org", "business@example.org"]).first()
    place = geocode(camera.address)[0]
    assert abs(place.lat - camera.latitude) < 0.0002 and abs(place.lng - camera.longitude) < 0.0002


# --- The Nominatim backend, against a real server on 127.0.0.1 --------------------------------------

NOMINATIM_ANSWER = [
    {"place_id": 1, "lat": "40.7135", "lon": "-74.0071", "display_name": "12, Main Street, Riverton, NY, 10561",
     "category": "place", "type": "house", "importance": 0.5},
    {"place_id": 2, "lat": "40.7201", "lon": "-74.0102", "display_name": "12, Main Road, Riverton, NY, 10563",
     "category": "place", "type": "house", "importance": 0.4},
]


class NominatimServer:
    """Answers /search like Nominatim; `mode` makes it fail: "error" (500), "slow", "garbage", "huge"."""

    def __init__(self):
        self.mode, self.requests = "ok", []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802  (http.server's name)
                server.requests.append({"path": self.path, "headers": dict(self.headers)})
                if server.mode == "slow":
                    time.sleep(2.5)
                if server.mode == "error":
                    body, status = b"<h1>Internal Server Error</h1>", 500
                elif server.mode == "garbage":
                    body, status = b"<html>not json</html>", 200
                elif server.mode == "huge":
                    body, status = b"[" + b" " * (2 * 1024 * 1024) + b"]", 200
                else:
                    body, status = json.dumps(NOMINATIM_ANSWER).encode(), 200
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting, as it should

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def last_query(self):
        return parse_qs(urlsplit(self.requests[-1]["path"]).query)


@pytest.fixture
def nominatim(settings):
    server = NominatimServer()
    server.thread.start()
    settings.GEOCODER, settings.GEOCODER_URL, settings.GEOCODER_TIMEOUT_SECONDS = "nominatim", server.url, 1
    settings.GEOCODER_VIEWBOX = None
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


def test_nominatim_answers_become_places(nominatim, settings):
    places = geocode("12 Main St")

    assert [place.as_json() for place in places] == [
        {"label": "12, Main Street, Riverton, NY, 10561", "lat": 40.7135, "lng": -74.0071},
        {"label": "12, Main Road, Riverton, NY, 10563", "lat": 40.7201, "lng": -74.0102}]
    request = nominatim.requests[-1]
    assert urlsplit(request["path"]).path == "/search"
    query = nominatim.last_query()
    assert (query["q"], query["format"], query["limit"]) == (["12 Main St"], ["jsonv2"], ["5"])
    assert request["headers"]["User-Agent"] == f"{settings.PROGRAM_NAME} ({settings.SITE_URL})"


def test_nominatim_searches_are_kept_to_the_city(nominatim, settings):
    settings.LEAFLET_CONFIG = {**settings.LEAFLET_CONFIG, "DEFAULT_CENTER": ("40.7128", "-74.0060")}
    settings.GEOCODER_RADIUS_M = 11_119

    geocode("12 Main St")

    west, south, east, north = (float(value) for value in nominatim.last_query()["viewbox"][0].split(","))
    assert (round(south, 3), round(north, 3)) == (40.613, 40.813)
    assert round(west, 3) == -74.138 and round(east, 3) == -73.874
    assert nominatim.last_query()["bounded"] == ["1"]


def test_a_configured_viewbox_wins_and_no_radius_means_anywhere(nominatim, settings):
    settings.GEOCODER_VIEWBOX = (-74.03, 40.69, -73.98, 40.74)
    geocode("12 Main St")
    assert nominatim.last_query()["viewbox"] == ["-74.030000,40.690000,-73.980000,40.740000"]

    settings.GEOCODER_VIEWBOX, settings.GEOCODER_RADIUS_M = None, 0
    assert city_viewbox() is None
    geocode("13 Main St")
    assert "viewbox" not in nominatim.last_query() and "bounded" not in nominatim.last_query()


def test_nominatim_answers_are_cached(nominatim):
    geocode("12 Main St")
    geocode("12 main st ")

    assert len(nominatim.requests) == 1


@pytest.mark.parametrize("mode", ["error", "garbage", "huge"])
def test_a_failing_nominatim_makes_search_unavailable(nominatim, mode):
    nominatim.mode = mode

    with pytest.raises(GeocoderUnavailable, match="Address search is unavailable"):
        geocode("12 Main St")
    nominatim.mode = "ok"
    assert geocode("12 Main St")  # failures are not cached


def test_a_slow_nominatim_is_given_up_on_after_the_timeout(nominatim):
    nominatim.mode = "slow"
    started = time.monotonic()

    with pytest.raises(GeocoderUnavailable):
        geocode("12 Main St")

    assert time.monotonic() - started < 2


def test_an_unreachable_server_makes_search_unavailable():
    backend = NominatimGeocoder(url="http://127.0.0.1:9", timeout_seconds=1)

    with pytest.raises(GeocoderUnavailable):
        backend.search("12 Main St")


# --- Settings ----------------------------------------------------------------------------------------

def test_the_geocoder_settings_are_checked(monkeypatch):
    assert env_choice("GEOCODER", "local", ("local", "nominatim")) == "local"
    monkeypatch.setenv("GEOCODER", "Nominatim")
    assert env_choice("GEOCODER", "local", ("local", "nominatim")) == "nominatim"
    monkeypatch.setenv("GEOCODER", "google")
    with pytest.raises(ImproperlyConfigured, match="not one of: local, nominatim"):
        env_choice("GEOCODER", "local", ("local", "nominatim"))

    monkeypatch.setenv("GEOCODER_VIEWBOX", "-74.03, 40.69, -73.98, 40.74")
    assert env_viewbox("GEOCODER_VIEWBOX") == (-74.03, 40.69, -73.98, 40.74)
    for bad in ("-74,40", "west,south,east,north", "-73.98,40.69,-74.03,40.74", "-74,91,-73,92"):
        monkeypatch.setenv("GEOCODER_VIEWBOX", bad)
        with pytest.raises(ImproperlyConfigured, match="not a box"):
            env_viewbox("GEOCODER_VIEWBOX")


def test_nominatim_without_a_server_address_stops_the_start():
    result = run_manage("check", env={"GEOCODER": "nominatim"})

    assert result.returncode != 0
    assert "GEOCODER=nominatim needs GEOCODER_URL" in result.stderr


# --- The endpoint -------------------------------------------------------------------------------------

ROLES = ["resident", "business", "officer", "operator", "supervisor", "oversight"]


@pytest.mark.parametrize("role", ROLES)
def test_every_signed_in_user_may_search(client, request, login, town, role):
    login(client, request.getfixturevalue(role))

    response = client.get("/cameras/geocode/", {"q": "1200 Main St"})

    assert response.status_code == 200
    assert response.json() == [{"label": "1200 Main St, Riverton 10561", "lat": 40.713, "lng": -74.0062}]


def test_anonymous_visitors_may_not_search(client, town):
    response = client.get("/cameras/geocode/", {"q": "12 Main St"})

    assert response.status_code == 403
    assert "label" not in response.content.decode()


def test_the_staff_search_needs_the_mfa_step(client, officer, town):
    client.force_login(officer)  # signed in, second factor not given

    response = client.get("/cameras/geocode/", {"q": "12 Main St"})

    assert response.status_code in (302, 403)
    assert "label" not in response.content.decode()


@pytest.mark.parametrize(("params", "message"), [
    ({}, "Type an address to search for."),
    ({"q": "   "}, "Type an address to search for."),
    ({"q": "12"}, "Type at least 3 characters of the address."),
    ({"q": "1" * 201}, "An address has at most 200 characters."),
])
def test_the_query_is_checked(client, login, resident, params, message):
    login(client, resident)

    response = client.get("/cameras/geocode/", params)

    assert response.status_code == 400
    assert response.json() == {"q": [message]}


def test_searches_are_rate_limited_per_user(client, login, resident, other_owner, settings, town):
    settings.GEOCODER_RATE_LIMIT = "3/min"
    login(client, resident)

    statuses = [client.get("/cameras/geocode/", {"q": "12 Main St"}).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    login(client, other_owner)
    assert client.get("/cameras/geocode/", {"q": "12 Main St"}).status_code == 200


def test_an_unavailable_geocoder_is_a_clear_503_not_a_500(client, login, resident, nominatim):
    nominatim.mode = "error"
    login(client, resident)

    response = client.get("/cameras/geocode/", {"q": "12 Main St"})

    assert response.status_code == 503
    assert response.json() == {"detail": "Address search is unavailable right now. Click the map or type the "
                                         "latitude and longitude instead."}


def test_the_endpoint_answers_in_the_users_language(client, login, resident, nominatim):
    login(client, resident)

    client.get("/cameras/geocode/", {"q": "12 Main St"}, HTTP_ACCEPT_LANGUAGE="es")

    assert nominatim.requests[-1]["headers"]["Accept-Language"] == "es"


def test_the_form_suggests_while_typing_only_with_the_local_search(client, login, resident, waivers, settings):
    from portal.tests.factories import sign_waiver

    sign_waiver(resident)
    login(client, resident)
    assert "data-while-typing" in client.get("/cameras/new/").content.decode()

    # The public Nominatim's usage policy forbids autocomplete: search on Find or Enter only.
    settings.GEOCODER, settings.GEOCODER_URL = "nominatim", "http://127.0.0.1:9"
    page = client.get("/cameras/new/").content.decode()
    assert "data-while-typing" not in page
    assert 'data-url="/cameras/geocode/"' in page
