"""Download my data: every section, both formats, no secrets, nobody else's data, audited, owners only."""

import csv
import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.utils import timezone

from cameras.live import live_session_end, live_session_start
from cameras.models import Camera, StreamSource
from cameras.services import stream_source_set
from cameras.tests.factories import CameraFactory
from portal.models import AuditEvent
from portal.owner_data import SECTION_DESCRIPTIONS, csv_cell, owner_data_json, owner_data_sections
from portal.tests.factories import sign_waiver
from requests_app import services as request_services
from requests_app.models import FootageRequest
from requests_app.tests.factories import IncidentFactory, finished_upload, submit
from requests_app.tests.videos import make_mp4

pytestmark = pytest.mark.django_db
LAT, LNG = 40.7128, -74.0060
STREAM_URL = "http://cam-7.example.net/secret-path/video.mjpg"
STREAM_USER, STREAM_PASSWORD = "camadmin", "hunter2-do-not-leak"
FORMULA_NAME = '=HYPERLINK("http://evil.example/","Click")'


@pytest.fixture
def world(business, other_owner, operator, waivers, django_capture_on_commit_callbacks):
    """The business with two cameras (one streaming), a request answered with a file, and a live view;
    the neighbour with a camera of their own in the same circle, who declined the same request."""
    sign_waiver(business)
    sign_waiver(other_owner)
    door = CameraFactory(owner=business, name="Shop door", access_level=Camera.AccessLevel.INTEGRATED,
                         latitude=LAT, longitude=LNG, rules={"live_mode": "always", "notify_on_live_view": True})
    stream_source_set(camera=door, actor=business, kind=StreamSource.Kind.MJPEG, url=STREAM_URL,
                      username=STREAM_USER, password=STREAM_PASSWORD)
    CameraFactory(owner=business, name=FORMULA_NAME, latitude=LAT, longitude=LNG, rules={
        "live_mode": "schedule", "schedule": [{"days": [0, 1, 2, 3, 4], "start": "18:00", "end": "07:00"}]})
    CameraFactory(owner=other_owner, name="Neighbour porch", latitude=LAT, longitude=LNG)
    incident = IncidentFactory(latitude=LAT, longitude=LNG)
    end = timezone.now() - timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        request_services.area_request_create(
            incident=incident, sender=operator, latitude=LAT, longitude=LNG, radius_m=100,
            window_start=end - timedelta(hours=1), window_end=end, message="Anything on the street, please.")
    mine = FootageRequest.objects.get(owner=business)
    request_services.footage_request_approve(footage_request=mine)
    submission = submit(mine, finished_upload(mine, lambda path: make_mp4(path, seconds=1)),
                        django_capture_on_commit_callbacks)
    theirs = FootageRequest.objects.get(owner=other_owner)
    request_services.footage_request_decline(footage_request=theirs, reason="Neighbour's private reason")
    door = Camera.objects.with_policy_facts().select_related("stream").get(pk=door.pk)
    session = live_session_start(camera=door, viewer=operator, incident=incident).session
    live_session_end(session=session, code="stopped")
    return {"business": business, "other": other_owner, "operator": operator, "incident": incident,
            "request": FootageRequest.objects.get(pk=mine.pk), "theirs": FootageRequest.objects.get(pk=theirs.pk),
            "submission": submission}


def download(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    assert response.streaming
    return response, b"".join(response.streaming_content)


def read_zip(body):
    archive = zipfile.ZipFile(io.BytesIO(body))
    return {name.removesuffix(".csv"): list(csv.reader(io.StringIO(archive.read(name).decode("utf-8-sig"))))
            for name in archive.namelist()}


def sections_of(user):
    return json.loads("".join(owner_data_json(user)))["sections"]


def test_the_json_file_holds_each_section_of_the_owners_data(client, login, world):
    business, operator = world["business"], world["operator"]
    login(client, business)

    response, body = download(client, "/account/my-data/json/")

    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith('attachment; filename="my-camera-portal-data-')
    data = json.loads(body)
    sections = data["sections"]
    assert list(sections) == list(SECTION_DESCRIPTIONS)
    assert data["owner"] == business.email and data["version"] == 1
    assert sections["account"] == [{**sections["account"][0], "email": business.email, "business_name": "Bo's Bakery",
                                    "account_type": "business", "live_view_notice": "each"}]
    cameras = {camera["name"]: camera for camera in sections["cameras"]}
    assert set(cameras) == {"Shop door", FORMULA_NAME}
    assert cameras["Shop door"]["stream_kind"] == "mjpeg" and cameras["Shop door"]["latitude"] == LAT
    assert cameras[FORMULA_NAME]["stream_kind"] is None
    rules = {rule["camera"]: rule for rule in sections["sharing_rules"]}
    assert rules["Shop door"]["live_mode"] == "always" and rules["Shop door"]["notify_on_live_view"] is True
    assert "E-mail me on each live view" in rules["Shop door"]["summary"]
    assert sections["schedule_windows"] == [{"camera_id": cameras[FORMULA_NAME]["id"], "camera": FORMULA_NAME,
                                             "days": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"],
                                             "start": "18:00", "end": "07:00"}]
    [signature] = sections["waiver_signatures"]
    assert signature["version"] == 1 and signature["typed_name"] == business.full_name
    assert len(signature["text_sha256"]) == 64
    [request] = sections["footage_requests"]
    assert request["id"] == world["request"].pk and request["incident_reference"] == world["incident"].reference
    assert request["message"] == "Anything on the street, please." and request["status"] == "approved"
    assert sections["answers"] == [{"footage_request_id": world["request"].pk, "answer": "approved",
                                    "answered_at": world["request"].answered_at.isoformat(), "decline_reason": ""}]
    submission = world["submission"]
    assert sections["files_given"] == [{
        "id": submission.pk, "footage_request_id": world["request"].pk, "name": "porch.mp4", "size": submission.size,
        "sha256": submission.sha256, "status": "accepted", "rejection_reason": "",
        "uploaded_at": submission.created_at.isoformat(), "processed_at": submission.processed_at.isoformat(),
        "retention": "kept_open_case", "deletion_date": None}]
    log = sections["access_log"]
    assert [event["id"] for event in log] == sorted(AuditEvent.objects.access_log_for(business)
                                                    .values_list("id", flat=True))
    actions = {event["action"] for event in log}
    assert {"request.sent", "live.access", "live.started", "live.ended"} <= actions
    started = next(event for event in log if event["action"] == "live.started")
    assert started["who"] == operator.staff_label and started["cameras"] == ["Shop door"]
    assert started["what"] == "Live viewing started" and started["incident_reference"] == world["incident"].reference


def test_files_given_say_when_they_will_be_deleted_and_hide_a_legal_holds_reason(world, supervisor, settings):
    from incidents.models import Incident
    from requests_app.retention import footage_hold_place

    incident, submission = world["incident"], world["submission"]
    closed_at = timezone.now() - timedelta(days=1)
    Incident.objects.filter(pk=incident.pk).update(status=Incident.Status.CLOSED, closed_at=closed_at)
    [row] = sections_of(world["business"])["files_given"]
    assert row["retention"] == "scheduled"
    assert row["deletion_date"] == (closed_at + timedelta(days=settings.EVIDENCE_RETENTION_DAYS)).isoformat()

    footage_hold_place(submission=submission, actor=supervisor, reason="Defence asked to keep it.")
    [row] = sections_of(world["business"])["files_given"]
    assert row["retention"] == "kept_open_case" and row["deletion_date"] is None
    assert "Defence" not in json.dumps(sections_of(world["business"]))


def test_the_access_log_section_is_what_the_access_log_page_shows(client, login, world):
    business = world["business"]
    login(client, business)
    page = client.get("/access-log/").content.decode()

    log = json.loads(download(client, "/account/my-data/json/")[1])["sections"]["access_log"]

    assert log and all(event["what"] in page for event in log)
    # The owner's own acts (approving, uploading, this very download) are not police access.
    assert not AuditEvent.objects.filter(pk__in=[event["id"] for event in log], actor=business).exists()


def test_the_csv_zip_has_one_file_per_section_with_the_same_rows(client, login, world):
    login(client, world["business"])

    response, body = download(client, "/account/my-data/csv/")

    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="my-camera-portal-data-')
    assert int(response["Content-Length"]) == len(body)
    files = read_zip(body)
    as_json = json.loads(download(client, "/account/my-data/json/")[1])["sections"]
    assert list(files) == list(SECTION_DESCRIPTIONS)
    for name, rows in files.items():
        header, *lines = rows
        assert header == list(as_json[name][0]) if as_json[name] else header
        assert len(lines) == len(as_json[name]), name
    header, *lines = files["schedule_windows"]
    assert lines[0][header.index("days")] == "Monday; Tuesday; Wednesday; Thursday; Friday"


def test_csv_cells_that_a_spreadsheet_would_run_get_an_apostrophe(client, login, world):
    login(client, world["business"])

    files = read_zip(download(client, "/account/my-data/csv/")[1])

    header, *lines = files["cameras"]
    names = [line[header.index("name")] for line in lines]
    assert f"'{FORMULA_NAME}" in names and FORMULA_NAME not in names
    longitudes = {line[header.index("longitude")] for line in lines}
    assert longitudes == {str(LNG)}  # a number is written as a number: it cannot be a formula
    assert not any(cell.startswith(("=", "+", "@")) for rows in files.values() for row in rows for cell in row)


@pytest.mark.parametrize(("value", "cell"), [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"),
    ("ok", "ok"), ("", ""), (None, ""), (True, "true"), (False, "false"), (-74.006, -74.006), (3, 3),
    (["a", "=b"], "a; =b"), (["=a", "b"], "'=a; b"),
])
def test_csv_cell(value, cell):
    assert csv_cell(value) == cell


def test_the_files_hold_no_secrets_and_nothing_of_other_people(client, login, world):
    business, other, operator = world["business"], world["other"], world["operator"]
    login(client, business)
    body_json = download(client, "/account/my-data/json/")[1].decode()
    body_csv = "\n".join(archive_text for archive_text in _zip_texts(download(client, "/account/my-data/csv/")[1]))
    stream = StreamSource.objects.get(camera__owner=business)
    business.refresh_from_db()

    forbidden = [STREAM_URL, "cam-7.example.net", STREAM_USER, STREAM_PASSWORD, stream.encrypted_url,
                 stream.encrypted_password, world["request"].token_hash, business.password,
                 world["request"].email_message_id, other.email, other.full_name, "Neighbour porch",
                 "Neighbour's private reason", operator.email, "police.example.org"]
    assert world["request"].token_hash and world["theirs"].token_hash  # the links were really sent
    for text in (body_json, body_csv):
        for secret in [*forbidden, world["theirs"].token_hash]:
            assert secret not in text, secret


def _zip_texts(body):
    archive = zipfile.ZipFile(io.BytesIO(body))
    return [archive.read(name).decode("utf-8-sig") for name in archive.namelist()]


def test_the_other_owners_export_holds_only_their_own_request_and_camera(client, login, world):
    login(client, world["other"])

    sections = json.loads(download(client, "/account/my-data/json/")[1])["sections"]

    assert [camera["name"] for camera in sections["cameras"]] == ["Neighbour porch"]
    assert [request["id"] for request in sections["footage_requests"]] == [world["theirs"].pk]
    assert sections["answers"][0]["decline_reason"] == "Neighbour's private reason"
    assert sections["files_given"] == [] and sections["schedule_windows"] == []
    assert all(event["cameras"] in (["Neighbour porch"], []) for event in sections["access_log"])
    assert "Shop door" not in json.dumps(sections)


@pytest.mark.parametrize("export_format", ["json", "csv"])
def test_each_download_is_audited_with_its_format(client, login, resident, export_format):
    login(client, resident)

    download(client, f"/account/my-data/{export_format}/")
    download(client, f"/account/my-data/{export_format}/")

    events = AuditEvent.objects.filter(action="account.data_exported")
    assert events.count() == 2
    assert {(event.actor_id, event.details["format"], event.target) for event in events} == {
        (resident.pk, export_format, f"user:{resident.pk}")}


def test_a_new_owner_gets_empty_sections_not_an_error(client, login, resident):
    login(client, resident)

    sections = json.loads(download(client, "/account/my-data/json/")[1])["sections"]

    assert sections["account"][0]["email"] == resident.email
    assert all(rows == [] for name, rows in sections.items() if name not in ("account", "email_addresses"))
    files = read_zip(download(client, "/account/my-data/csv/")[1])
    assert files["cameras"] == [files["cameras"][0]]  # the header alone


def test_the_json_streams_in_pieces_that_join_into_one_document(world):
    pieces = list(owner_data_json(world["business"], chunk_chars=200))

    assert len(pieces) > 3
    assert set(json.loads("".join(pieces))["sections"]) == {section.name
                                                            for section in owner_data_sections(world["business"])}


URLS = ["/account/my-data/", "/account/my-data/json/", "/account/my-data/csv/"]


@pytest.mark.parametrize("url", URLS)
def test_signed_out_visitors_are_sent_to_sign_in(client, url):
    response = client.get(url)

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("role", ["officer", "operator", "supervisor", "oversight"])
def test_staff_are_refused(client, login, request, url, role):
    login(client, request.getfixturevalue(role))

    assert client.get(url).status_code == 403
    assert not AuditEvent.objects.filter(action="account.data_exported").exists()


@pytest.mark.parametrize("url", URLS)
def test_downloads_answer_only_get(client, login, resident, url):
    login(client, resident)

    assert client.post(url).status_code == 405


def test_the_page_explains_the_file_and_offers_both_formats(client, login, business):
    login(client, business)

    page = client.get("/account/my-data/").content.decode()

    assert 'href="/account/my-data/json/"' in page and 'href="/account/my-data/csv/"' in page
    for name in SECTION_DESCRIPTIONS:
        assert f"<code>{name}</code>" in page
    assert not AuditEvent.objects.filter(action="account.data_exported").exists()  # reading the page is not a download


def test_the_account_page_links_to_my_data_for_owners_only(client, login, business, officer):
    login(client, business)
    assert 'href="/account/my-data/"' in client.get("/account/").content.decode()

    login(client, officer)
    assert 'href="/account/my-data/"' not in client.get("/account/").content.decode()


@pytest.mark.django_db(transaction=True)
async def test_under_asgi_the_json_streams_from_an_async_iterator(async_client, world):
    from asgiref.sync import sync_to_async

    await async_client.aforce_login(world["business"])

    response = await async_client.get("/account/my-data/json/")

    assert response.status_code == 200 and response.is_async
    body = b"".join([piece async for piece in response.streaming_content])
    assert json.loads(body)["sections"]["files_given"][0]["sha256"] == world["submission"].sha256
    assert await sync_to_async(AuditEvent.objects.filter(action="account.data_exported").count)() == 1
