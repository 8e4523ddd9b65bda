"""The tus 1.0.0 upload server (requests_app/tus.py) with footage on disk: a real client (tuspy) against a live
server, the protocol's refusals through Django's test client, a chunked body through the ASGI handler daphne uses,
the disk store's files and locking. test_tus_stores.py runs uploads on the disk and S3 stores alike."""

import asyncio
import base64
import fcntl
import hashlib
import os
import stat
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler
from django.db import connection
from django.test import Client
from django.utils import timezone
from django.utils.http import parse_http_date
from tusclient import client as tus_client
from tusclient.exceptions import TusCommunicationError

from requests_app import tus_stores
from requests_app.models import Upload
from requests_app.tests.tus_urls import EVENTS
from requests_app.tus import clean_filename, delete_expired_uploads, human_size, parse_metadata

pytestmark = pytest.mark.urls("requests_app.tests.tus_urls")

CREATE_URL = "/tus-test/uploads/"
PIECE_TYPE = "application/offset+octet-stream"
KiB = 1024
MiB = 1024 * 1024


@pytest.fixture(autouse=True)
def _private_storage(disk_footage):
    # The protocol, and the disk store's files; test_tus_stores.py runs uploads on both stores.
    EVENTS.clear()
    yield
    EVENTS.clear()


# --- Helpers --------------------------------------------------------------------------------------------

def tus_headers(**headers):
    return {"Tus-Resumable": "1.0.0", **{name.replace("_", "-"): value for name, value in headers.items()}}


def create(client, length, metadata=None, **headers):
    headers = tus_headers(Upload_Length=str(length), **headers)
    if metadata is not None:
        headers["Upload-Metadata"] = metadata
    return client.post(CREATE_URL, data=b"", content_type="application/octet-stream", headers=headers)


def create_upload(client, length, metadata=None):
    response = create(client, length, metadata)
    assert response.status_code == 201, response.content
    return response["Location"], Upload.objects.get(pk=response["Location"].rstrip("/").rsplit("/", 1)[1])


def patch(client, url, data, offset, content_type=PIECE_TYPE, **headers):
    # CONTENT_TYPE too: the test client leaves the type out when the body is empty, tus clients do not.
    return client.patch(url, data=data, content_type=content_type, CONTENT_TYPE=content_type,
                        headers=tus_headers(Upload_Offset=str(offset), **headers))


def head(client, url):
    return client.head(url, headers=tus_headers())


def _b64(value):
    return base64.b64encode(value.encode()).decode()


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def uploads_folder():
    return settings.FOOTAGE_ROOT / "uploads"


def text(response):
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


def live_headers(live_server, user):
    """What a signed-in browser sends: the session and CSRF cookies, and the token in X-CSRFToken."""
    browser = Client()
    browser.force_login(user)
    session = browser.cookies[settings.SESSION_COOKIE_NAME].value
    page = requests.get(f"{live_server.url}/tus-test/csrf/", cookies={settings.SESSION_COOKIE_NAME: session},
                        timeout=10)
    csrf_cookie = page.cookies[settings.CSRF_COOKIE_NAME]
    return {"Cookie": f"{settings.SESSION_COOKIE_NAME}={session}; {settings.CSRF_COOKIE_NAME}={csrf_cookie}",
            "X-CSRFToken": page.text}


@pytest.fixture
def video(tmp_path):
    """A few megabytes of random bytes standing in for a phone's video (not a multiple of the piece size)."""
    path = tmp_path / "phone" / "front door.mp4"
    path.parent.mkdir()
    path.write_bytes(os.urandom(3 * MiB + 12_345))
    return path


# --- A real client: tuspy against a live server ---------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_tuspy_uploads_a_video_in_one_mebibyte_pieces_and_the_server_keeps_identical_bytes(live_server, resident,
                                                                                           video):
    client = tus_client.TusClient(f"{live_server.url}{CREATE_URL}", headers=live_headers(live_server, resident))
    uploader = client.uploader(str(video), chunk_size=1 * MiB, metadata={"filename": "front door.mp4"})

    uploader.upload()

    upload = Upload.objects.get()
    assert uploader.url == f"{live_server.url}{CREATE_URL}{upload.id}/"
    assert upload.is_complete and upload.completed_at is not None
    assert upload.length == video.stat().st_size
    assert upload.filename == "front door.mp4"
    assert upload.scope == f"test:{resident.pk}"
    assert sha256(upload.path) == sha256(video)
    assert EVENTS == [("created", upload.id), ("completed", upload.id)]


@pytest.mark.django_db(transaction=True)
def test_an_interrupted_upload_is_resumed_by_a_new_uploader_from_the_servers_offset(live_server, resident, video):
    headers = live_headers(live_server, resident)
    first = tus_client.TusClient(f"{live_server.url}{CREATE_URL}", headers=headers).uploader(
        str(video), chunk_size=256 * KiB, metadata={"filename": "front door.mp4"})
    first.upload(stop_at=1_300_000)  # the phone lost its connection here
    assert Upload.objects.get().offset == 1_300_000
    assert EVENTS == [("created", Upload.objects.get().id)]

    # Later, a fresh page (or app restart) picks the upload up by its URL alone.
    second = tus_client.TusClient(f"{live_server.url}{CREATE_URL}", headers=headers).uploader(
        str(video), url=first.url, chunk_size=1 * MiB)
    assert second.offset == 1_300_000  # learned from the server with HEAD
    second.upload()

    upload = Upload.objects.get()
    assert upload.is_complete
    assert sha256(upload.path) == sha256(video)
    assert EVENTS == [("created", upload.id), ("completed", upload.id)]


@pytest.mark.django_db(transaction=True)
def test_tuspy_receives_the_servers_plain_english_refusal(live_server, resident, video, settings):
    settings.UPLOAD_MAX_FILE_BYTES = 1 * MiB
    client = tus_client.TusClient(f"{live_server.url}{CREATE_URL}", headers=live_headers(live_server, resident))

    with pytest.raises(TusCommunicationError) as refusal:
        client.uploader(str(video), chunk_size=1 * MiB).upload()

    assert refusal.value.status_code == 413
    assert refusal.value.response_content == b"This file is larger than the 1 MiB limit."
    assert not Upload.objects.exists()


# --- OPTIONS, versions, methods -------------------------------------------------------------------------

@pytest.mark.django_db
def test_options_advertises_the_version_extensions_and_maximum_size_without_signing_in(client, settings):
    settings.UPLOAD_MAX_FILE_BYTES = 5 * 1024**3
    for url in (CREATE_URL, f"{CREATE_URL}{uuid.uuid4()}/"):
        response = client.options(url)

        assert response.status_code == 204
        assert response["Tus-Resumable"] == "1.0.0"
        assert response["Tus-Version"] == "1.0.0"
        assert response["Tus-Extension"] == "creation,termination,expiration"
        assert response["Tus-Max-Size"] == str(5 * 1024**3)


@pytest.mark.django_db
def test_requests_without_tus_resumable_1_0_0_are_refused_with_412_and_the_supported_version(uploader):
    url, upload = create_upload(uploader, 100)
    responses = [
        uploader.post(CREATE_URL, headers={"Upload-Length": "100"}),
        uploader.head(url),
        uploader.patch(url, data=b"x", content_type=PIECE_TYPE, headers={"Upload-Offset": "0"}),
        uploader.patch(url, data=b"x", content_type=PIECE_TYPE,
                       headers={"Upload-Offset": "0", "Tus-Resumable": "0.2.2"}),
        uploader.delete(url),
    ]

    for response in responses:
        assert response.status_code == 412
        assert response["Tus-Version"] == "1.0.0"
        assert response["Tus-Resumable"] == "1.0.0"
    assert "tus 1.0.0" in text(responses[0])
    assert Upload.objects.count() == 1
    assert upload.path.stat().st_size == 0


@pytest.mark.django_db
def test_methods_an_address_does_not_serve_are_refused_with_405(uploader):
    url, _ = create_upload(uploader, 10)

    on_upload = uploader.post(url, headers=tus_headers())
    on_collection = patch(uploader, CREATE_URL, b"x", 0)

    assert on_upload.status_code == 405
    assert on_upload["Allow"] == "OPTIONS, HEAD, PATCH, DELETE"
    assert on_collection.status_code == 405
    assert on_collection["Allow"] == "OPTIONS, POST"
    assert on_collection["Tus-Resumable"] == "1.0.0"
    assert text(on_collection) == "This address does not accept PATCH requests."


# --- Creation -------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_creation_stores_the_upload_and_an_empty_private_file_and_says_when_it_expires(uploader, resident):
    before = timezone.now()
    response = create(uploader, 5000, "filename ZnJvbnQgZG9vci5tcDQ=,camera QmFjayB5YXJk")

    assert response.status_code == 201
    upload = Upload.objects.get()
    assert response["Location"] == f"{CREATE_URL}{upload.id}/"
    assert response["Tus-Resumable"] == "1.0.0"
    assert upload.scope == f"test:{resident.pk}"
    assert (upload.length, upload.offset, upload.completed_at) == (5000, 0, None)
    assert upload.filename == "front door.mp4"
    assert upload.metadata == {"filename": "front door.mp4", "camera": "Back yard"}
    assert upload.ip_address == "127.0.0.1"
    expected = before + timedelta(hours=48)
    assert expected <= upload.expires_at <= timezone.now() + timedelta(hours=48)
    assert parse_http_date(response["Upload-Expires"]) == int(upload.expires_at.timestamp())
    assert upload.path == uploads_folder() / f"{upload.id}.part"
    assert upload.path.stat().st_size == 0
    assert stat.S_IMODE(upload.path.stat().st_mode) == 0o600
    assert EVENTS == [("created", upload.id)]


@pytest.mark.django_db
def test_the_stored_file_name_loses_folders_control_characters_and_excess_length(uploader):
    _, upload = create_upload(uploader, 10, "filename " + _b64("../../Videos\\\u202eevil\x00 clip.mp4"))
    assert upload.filename == "evil clip.mp4"

    assert clean_filename("/etc/passwd") == "passwd"
    assert clean_filename("..") == ""
    assert clean_filename(" .hidden.mov ") == "hidden.mov"
    assert clean_filename("line\nbreak.mp4") == "linebreak.mp4"
    long_name = clean_filename("a" * 400 + ".mp4")
    assert len(long_name) == 255 and long_name.endswith("a.mp4")


@pytest.mark.django_db
def test_metadata_values_may_be_empty_or_absent(uploader):
    _, upload = create_upload(uploader, 10, "filename Y2xpcC5tcDQ=,private,note ")

    assert upload.metadata == {"filename": "clip.mp4", "private": "", "note": ""}
    assert parse_metadata("") == {}


@pytest.mark.django_db
@pytest.mark.parametrize("metadata", ["filename not*base64!", "filename YQ== extra", "filename YQ==,filename Yg==",
                                      "filename YQ"])
def test_unreadable_metadata_is_refused_with_400_and_nothing_is_created(uploader, metadata):
    response = create(uploader, 10, metadata)

    assert response.status_code == 400
    assert text(response) == "The file's details (Upload-Metadata) could not be read."
    assert not Upload.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("headers", "message"), [
    ({}, "The upload did not say how large the file is."),
    ({"Upload-Length": "-1"}, "The file size sent with the upload is not a whole number of bytes."),
    ({"Upload-Length": "12abc"}, "The file size sent with the upload is not a whole number of bytes."),
    ({"Upload-Defer-Length": "1"}, "The file's size must be known before the upload starts."),
])
def test_creation_needs_the_file_size_as_a_whole_number(uploader, headers, message):
    response = uploader.post(CREATE_URL, data=b"", content_type="application/octet-stream",
                             headers=tus_headers(**headers))

    assert response.status_code == 400
    assert text(response) == message
    assert not Upload.objects.exists()


@pytest.mark.django_db
def test_a_file_over_the_size_limit_is_refused_at_creation_with_413(uploader):
    response = create(uploader, 10 * 1024**3 + 1)

    assert response.status_code == 413
    assert text(response) == "This file is larger than the 10 GiB limit."
    assert not Upload.objects.exists()
    assert not uploads_folder().exists() or not any(uploads_folder().iterdir())


@pytest.mark.django_db
def test_the_callers_creation_check_can_refuse_an_upload(uploader):
    response = create(uploader, 10, "filename " + _b64("setup.EXE"))

    assert response.status_code == 400
    assert text(response) == "Only video files can be uploaded."
    assert not Upload.objects.exists()
    assert EVENTS == []


@pytest.mark.django_db
def test_a_zero_length_upload_is_complete_at_once(uploader):
    response = create(uploader, 0)

    upload = Upload.objects.get()
    assert response.status_code == 201
    assert "Upload-Expires" not in response
    assert upload.is_complete and upload.completed_at is not None
    assert EVENTS == [("created", upload.id), ("completed", upload.id)]
    assert head(uploader, response["Location"])["Upload-Offset"] == "0"


# --- HEAD and PATCH -------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_head_reports_offset_length_metadata_and_expiry_and_is_never_cached(uploader):
    url, upload = create_upload(uploader, 3000, "filename Y2xpcC5tcDQ=")
    patch(uploader, url, b"a" * 1000, 0)

    response = head(uploader, url)

    assert response.status_code == 200
    assert response["Upload-Offset"] == "1000"
    assert response["Upload-Length"] == "3000"
    assert response["Cache-Control"] == "no-store"
    assert response["Upload-Metadata"] == "filename Y2xpcC5tcDQ="
    assert parse_http_date(response["Upload-Expires"]) == int(upload.expires_at.timestamp())
    assert response["Tus-Resumable"] == "1.0.0"

    patch(uploader, url, b"b" * 2000, 1000)
    finished = head(uploader, url)
    assert finished["Upload-Offset"] == "3000"
    assert "Upload-Expires" not in finished


@pytest.mark.django_db
def test_patch_appends_the_piece_and_returns_the_new_offset_and_expiry(uploader):
    url, upload = create_upload(uploader, 3000)

    first = patch(uploader, url, b"a" * 1000, 0)
    second = patch(uploader, url, b"b" * 1500, 1000)

    assert (first.status_code, first["Upload-Offset"]) == (204, "1000")
    assert (second.status_code, second["Upload-Offset"]) == (204, "2500")
    assert parse_http_date(second["Upload-Expires"]) == int(upload.expires_at.timestamp())
    assert upload.path.read_bytes() == b"a" * 1000 + b"b" * 1500
    upload.refresh_from_db()
    assert (upload.offset, upload.completed_at) == (2500, None)
    assert EVENTS == [("created", upload.id)]


@pytest.mark.django_db
def test_a_piece_with_the_wrong_content_type_is_refused_with_415(uploader):
    url, upload = create_upload(uploader, 100)

    response = patch(uploader, url, b"x" * 10, 0, content_type="application/octet-stream")

    assert response.status_code == 415
    assert text(response) == "Upload pieces must be sent as application/offset+octet-stream."
    assert upload.path.stat().st_size == 0


@pytest.mark.django_db
def test_a_piece_without_upload_offset_is_refused_with_400(uploader):
    url, upload = create_upload(uploader, 100)

    response = uploader.patch(url, data=b"x", content_type=PIECE_TYPE, headers=tus_headers())

    assert response.status_code == 400
    assert text(response) == "The upload did not say where this piece starts (Upload-Offset)."


@pytest.mark.django_db
def test_a_piece_at_the_wrong_offset_is_refused_with_409_and_the_file_is_unchanged(uploader):
    url, upload = create_upload(uploader, 2 * MiB)
    patch(uploader, url, b"a" * MiB, 0)

    response = patch(uploader, url, b"b" * 1000, 0)

    assert response.status_code == 409
    assert text(response) == "The upload is at byte 1048576, not 0; resume from there."
    assert upload.path.read_bytes() == b"a" * MiB
    upload.refresh_from_db()
    assert upload.offset == MiB


@pytest.mark.django_db
def test_a_piece_over_the_size_cap_is_refused_with_413_before_anything_is_written(uploader, settings):
    settings.UPLOAD_MAX_CHUNK_BYTES = 64 * KiB
    url, upload = create_upload(uploader, MiB)

    response = patch(uploader, url, b"x" * 65 * KiB, 0)

    assert response.status_code == 413
    assert text(response) == "Each piece of an upload may be at most 64 KiB."
    assert upload.path.stat().st_size == 0
    upload.refresh_from_db()
    assert upload.offset == 0
    assert patch(uploader, url, b"x" * 64 * KiB, 0).status_code == 204


@pytest.mark.django_db
def test_a_piece_going_past_the_end_of_the_file_is_refused_and_nothing_is_written(uploader):
    url, upload = create_upload(uploader, 1000)
    patch(uploader, url, b"a" * 600, 0)

    response = patch(uploader, url, b"b" * 401, 600)

    assert response.status_code == 413
    assert text(response) == "This piece goes past the end of the file (1000 bytes); nothing was saved."
    assert upload.path.read_bytes() == b"a" * 600
    upload.refresh_from_db()
    assert upload.offset == 600


@pytest.mark.django_db
def test_the_completion_hook_runs_once_even_when_the_last_piece_is_repeated_empty(uploader):
    url, upload = create_upload(uploader, 1000)
    patch(uploader, url, b"a" * 400, 0)

    last = patch(uploader, url, b"b" * 600, 400)
    repeated = patch(uploader, url, b"", 1000)
    more = patch(uploader, url, b"c", 1000)

    assert (last.status_code, last["Upload-Offset"]) == (204, "1000")
    assert "Upload-Expires" not in last
    assert (repeated.status_code, repeated["Upload-Offset"]) == (204, "1000")
    assert more.status_code == 409
    assert text(more) == "This upload is already complete."
    assert upload.path.read_bytes() == b"a" * 400 + b"b" * 600
    upload.refresh_from_db()
    assert upload.completed_at is not None
    assert EVENTS == [("created", upload.id), ("completed", upload.id)]


@pytest.mark.django_db
def test_x_http_method_override_lets_a_post_act_as_a_patch(uploader):
    url, upload = create_upload(uploader, 10)

    response = uploader.post(url, data=b"0123456789", content_type=PIECE_TYPE,
                             headers=tus_headers(Upload_Offset="0", X_HTTP_Method_Override="PATCH"))

    assert (response.status_code, response["Upload-Offset"]) == (204, "10")
    assert upload.path.read_bytes() == b"0123456789"


# --- Crashes, lost files, locking -----------------------------------------------------------------------

@pytest.mark.django_db
def test_bytes_on_disk_beyond_the_recorded_offset_are_cut_back_on_the_next_head(uploader):
    url, upload = create_upload(uploader, 5000)
    patch(uploader, url, b"a" * 1000, 0)
    with open(upload.path, "ab") as file:  # a request that died after writing, before recording
        file.write(b"partial piece")

    response = head(uploader, url)

    assert response["Upload-Offset"] == "1000"
    assert upload.path.read_bytes() == b"a" * 1000


@pytest.mark.django_db
def test_bytes_on_disk_beyond_the_recorded_offset_are_cut_back_on_the_next_patch(uploader):
    url, upload = create_upload(uploader, 5000)
    patch(uploader, url, b"a" * 1000, 0)
    with open(upload.path, "ab") as file:
        file.write(b"partial piece")

    response = patch(uploader, url, b"b" * 500, 1000)

    assert (response.status_code, response["Upload-Offset"]) == (204, "1500")
    assert upload.path.read_bytes() == b"a" * 1000 + b"b" * 500


@pytest.mark.django_db
def test_an_upload_whose_file_was_lost_starts_again_from_zero(uploader):
    url, upload = create_upload(uploader, 5000)
    patch(uploader, url, b"a" * 1000, 0)
    upload.path.unlink()

    response = head(uploader, url)

    assert response["Upload-Offset"] == "0"
    assert upload.path.stat().st_size == 0
    assert patch(uploader, url, b"b" * 5000, 0)["Upload-Offset"] == "5000"


@pytest.mark.django_db
def test_a_piece_waits_for_the_upload_lock_and_gives_up_with_423(uploader, monkeypatch):
    monkeypatch.setattr(tus_stores, "LOCK_WAIT_SECONDS", 0.3)
    url, upload = create_upload(uploader, 1000)

    with open(upload.path, "rb") as other_writer:
        fcntl.flock(other_writer, fcntl.LOCK_EX)
        response = patch(uploader, url, b"a" * 100, 0)

    assert response.status_code == 423
    assert text(response) == "Another part of this upload is still being saved; please try again in a moment."
    assert upload.path.stat().st_size == 0
    assert patch(uploader, url, b"a" * 100, 0).status_code == 204


class GatedBody:
    """A request body that stalls on its first read until the test releases it (a slow piece in flight)."""

    def __init__(self, data, started, release):
        self.data, self.position, self.started, self.release = data, 0, started, release

    def read(self, size=-1):
        if not self.started.is_set():
            self.started.set()
            assert self.release.wait(10)
        size = len(self.data) - self.position if size is None or size < 0 else size
        chunk = self.data[self.position: self.position + size]
        self.position += len(chunk)
        return chunk

    readline = read  # Django's LimitedStream wants one; a piece is never read by lines


@pytest.mark.django_db(transaction=True)
def test_two_pieces_sent_at_the_same_time_do_not_interleave(resident):
    owner = Client()
    owner.force_login(resident)
    url, upload = create_upload(owner, 300 * KiB)
    body_a, body_b = b"A" * (200 * KiB), b"B" * (200 * KiB)
    started, release = threading.Event(), threading.Event()
    results = {}

    def send(name, body, **extra):
        try:
            tab = Client()
            tab.cookies = owner.cookies
            results[name] = tab.patch(url, data=body, content_type=PIECE_TYPE,
                                      headers=tus_headers(Upload_Offset="0"), **extra)
        finally:
            connection.close()

    slow = threading.Thread(target=send, args=("a", body_a), kwargs={"wsgi.input": GatedBody(body_a, started, release)})
    slow.start()
    assert started.wait(10)  # the first piece holds the upload's lock and is being read
    fast = threading.Thread(target=send, args=("b", body_b))
    fast.start()
    time.sleep(0.5)  # the second piece is now waiting for the lock
    release.set()
    slow.join(10)
    fast.join(10)

    assert (results["a"].status_code, results["a"]["Upload-Offset"]) == (204, str(200 * KiB))
    assert results["b"].status_code == 409
    assert upload.path.read_bytes() == body_a
    upload.refresh_from_db()
    assert upload.offset == 200 * KiB


# --- A chunked body through Django's ASGI handler (what daphne calls) -----------------------------------

def asgi_patch(client, url, pieces, offset):
    """PATCH through the ASGI handler with a body sent in pieces and no Content-Length (chunked)."""
    token = client.get("/tus-test/csrf/").content
    cookie = "; ".join(f"{name}={morsel.value}" for name, morsel in client.cookies.items())
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "PATCH", "scheme": "http",
        "path": url, "raw_path": url.encode(), "query_string": b"", "root_path": "",
        "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
        "headers": [(b"host", b"testserver"), (b"cookie", cookie.encode()), (b"x-csrftoken", token),
                    (b"tus-resumable", b"1.0.0"), (b"upload-offset", str(offset).encode()),
                    (b"content-type", PIECE_TYPE.encode()), (b"transfer-encoding", b"chunked")],
    }
    waiting = list(pieces) or [b""]
    sent = []

    async def receive():
        if waiting:
            piece = waiting.pop(0)
            return {"type": "http.request", "body": piece, "more_body": bool(waiting)}
        await asyncio.Event().wait()  # the client stays connected

    async def send(message):
        sent.append(message)

    # In a thread of its own: Playwright's browser tests leave an event loop running in this one.
    with ThreadPoolExecutor(max_workers=1) as runner:
        runner.submit(asyncio.run, ASGIHandler()(scope, receive, send)).result(timeout=30)
    start = next(message for message in sent if message["type"] == "http.response.start")
    headers = {name.decode().lower(): value.decode() for name, value in start["headers"]}
    body = b"".join(message.get("body", b"") for message in sent if message["type"] == "http.response.body")
    return start["status"], headers, body.decode()


@pytest.mark.django_db(transaction=True)
def test_a_chunked_body_that_turns_out_too_large_is_refused_with_413_and_nothing_appended(resident, settings):
    settings.UPLOAD_MAX_CHUNK_BYTES = 64 * KiB
    owner = Client()
    owner.force_login(resident)
    url, upload = create_upload(owner, MiB)

    status, headers, body = asgi_patch(owner, url, [b"a" * 32 * KiB] * 3, 0)

    assert status == 413
    assert body == "Each piece of an upload may be at most 64 KiB."
    assert headers["tus-resumable"] == "1.0.0"
    assert upload.path.stat().st_size == 0
    upload.refresh_from_db()
    assert upload.offset == 0

    status, headers, _ = asgi_patch(owner, url, [b"a" * 32 * KiB, b"b" * 16 * KiB], 0)
    assert (status, headers["upload-offset"]) == (204, str(48 * KiB))
    assert upload.path.read_bytes() == b"a" * 32 * KiB + b"b" * 16 * KiB

    upload.refresh_from_db()
    Upload.objects.filter(pk=upload.pk).update(length=50 * KiB)
    status, _, body = asgi_patch(owner, url, [b"c" * 3 * KiB], 48 * KiB)
    assert status == 413
    assert body == f"This piece goes past the end of the file ({50 * KiB} bytes); nothing was saved."
    assert upload.path.stat().st_size == 48 * KiB


# --- Scopes and CSRF ------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_another_users_upload_is_not_found_and_left_alone(uploader, other_owner):
    url, upload = create_upload(uploader, 100)
    patch(uploader, url, b"a" * 10, 0)
    neighbour = Client()
    neighbour.force_login(other_owner)

    responses = [head(neighbour, url), patch(neighbour, url, b"b" * 10, 10),
                 neighbour.delete(url, headers=tus_headers())]

    assert [response.status_code for response in responses] == [404, 404, 404]
    assert text(responses[1]) == ("This upload was not found. It may have been cancelled or removed; "
                                  "please start it again.")
    assert upload.path.read_bytes() == b"a" * 10
    assert Upload.objects.filter(pk=upload.pk).exists()
    assert head(uploader, f"{CREATE_URL}{uuid.uuid4()}/").status_code == 404


@pytest.mark.django_db
def test_the_callers_refusal_of_an_anonymous_visitor_is_shown_as_403(client):
    response = create(client, 100)

    assert response.status_code == 403
    assert text(response) == "Sign in to upload footage."
    assert response["Tus-Resumable"] == "1.0.0"


@pytest.mark.django_db
def test_csrf_protection_stays_on_and_accepts_the_token_in_x_csrftoken(resident):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(resident)
    token = browser.get("/tus-test/csrf/").content.decode()

    assert create(browser, 100).status_code == 403
    response = create(browser, 100, X_CSRFToken=token)
    assert response.status_code == 201
    url = response["Location"]
    upload = Upload.objects.get()

    assert patch(browser, url, b"a" * 100, 0).status_code == 403
    assert upload.path.stat().st_size == 0
    assert patch(browser, url, b"a" * 100, 0, X_CSRFToken=token).status_code == 204
    assert upload.path.read_bytes() == b"a" * 100


# --- Termination ----------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_delete_terminates_an_unfinished_upload_removing_its_file_and_row(uploader):
    url, upload = create_upload(uploader, 100)
    patch(uploader, url, b"a" * 10, 0)

    response = uploader.delete(url, headers=tus_headers())

    assert response.status_code == 204
    assert response["Tus-Resumable"] == "1.0.0"
    assert not Upload.objects.exists()
    assert not upload.path.exists()
    assert EVENTS == [("created", upload.id), ("terminated", upload.id)]
    assert head(uploader, url).status_code == 404


@pytest.mark.django_db
def test_a_finished_upload_cannot_be_terminated_by_the_client(uploader):
    url, upload = create_upload(uploader, 10)
    patch(uploader, url, b"a" * 10, 0)

    response = uploader.delete(url, headers=tus_headers())

    assert response.status_code == 409
    assert text(response) == "This upload is already complete and can no longer be cancelled here."
    assert upload.path.read_bytes() == b"a" * 10
    assert Upload.objects.filter(pk=upload.pk).exists()


# --- Expiration -----------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_an_expired_upload_is_refused_with_410_and_removed_by_delete_expired_uploads(uploader):
    url, upload = create_upload(uploader, 100)
    patch(uploader, url, b"a" * 10, 0)
    Upload.objects.filter(pk=upload.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    _, unexpired = create_upload(uploader, 100)
    finished_url, finished = create_upload(uploader, 5)
    patch(uploader, finished_url, b"a" * 5, 0)
    Upload.objects.filter(pk=finished.pk).update(expires_at=timezone.now() - timedelta(days=9))

    refused_head, refused_patch = head(uploader, url), patch(uploader, url, b"b" * 10, 10)

    assert refused_head.status_code == 410
    assert refused_patch.status_code == 410
    assert text(refused_patch) == "This upload expired before it was finished; please start it again."
    assert upload.path.read_bytes() == b"a" * 10

    assert delete_expired_uploads() == 1
    assert not Upload.objects.filter(pk=upload.pk).exists()
    assert not upload.path.exists()
    assert delete_expired_uploads() == 0
    assert set(Upload.objects.values_list("pk", flat=True)) == {unexpired.pk, finished.pk}
    assert unexpired.path.exists() and finished.path.read_bytes() == b"a" * 5
    assert head(uploader, url).status_code == 404


@pytest.mark.django_db
def test_delete_expired_uploads_removes_stray_files_once_they_are_as_old_as_an_expired_upload(uploader):
    _, kept = create_upload(uploader, 100)
    old_stray = uploads_folder() / f"{uuid.uuid4()}.part"
    new_stray = uploads_folder() / f"{uuid.uuid4()}.part"
    not_ours = uploads_folder() / "notes.part"
    for path in (old_stray, new_stray, not_ours):
        path.write_bytes(b"leftover")
    long_ago = time.time() - 49 * 3600
    for path in (old_stray, not_ours):
        os.utime(path, (long_ago, long_ago))
    os.utime(kept.path, (long_ago, long_ago))

    assert delete_expired_uploads() == 1

    assert not old_stray.exists()
    assert new_stray.exists() and not_ours.exists() and kept.path.exists()


# --- Small pieces ---------------------------------------------------------------------------------------

def test_sizes_in_messages_read_naturally():
    assert human_size(10 * 1024**3) == "10 GiB"
    assert human_size(8 * MiB) == "8 MiB"
    assert human_size(1536) == "1.5 KiB"
    assert human_size(12) == "12 bytes"
