"""The footage storage (requests_app/storage.py) on a real S3 server: reading large files in pieces, serving
evidence with Range requests, and what happens when the bucket does not answer."""

import asyncio
import hashlib
import io
import os
import warnings
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import EndpointConnectionError
from django.core.handlers.asgi import ASGIHandler

from portal.models import AuditEvent
from requests_app import submissions
from requests_app.models import FootageSubmission, Upload
from requests_app.storage import S3ObjectReader, footage_storage
from requests_app.tests.factories import finished_upload, submit
from requests_app.tests.footage import replace_stored
from requests_app.tests.videos import make_mp4

MiB = 1024 * 1024


def unreachable(settings):
    """The same storage settings with the endpoint moved to a port where nothing listens."""
    footage = settings.STORAGES["footage"]
    return {**settings.STORAGES, "footage": {**footage, "OPTIONS": {**footage["OPTIONS"],
                                                                     "endpoint_url": "http://127.0.0.1:9"}}}


@pytest.fixture
def stored(s3_footage):
    """A 3 MiB object of random bytes in the bucket: (name, bytes)."""
    data = os.urandom(3 * MiB + 5)
    replace_stored("evidence/sample.bin", data)
    return "evidence/sample.bin", data


def test_the_reader_seeks_and_reads_like_a_local_file(stored):
    name, data = stored
    with footage_storage().open_reader(name) as reader:
        assert reader.read(10) == data[:10]
        reader.seek(-7, io.SEEK_END)
        assert reader.read() == data[-7:]
        reader.seek(MiB)
        assert reader.read(MiB + 3) == data[MiB:2 * MiB + 3]
        assert reader.tell() == 2 * MiB + 3
        reader.seek(0)
        assert hashlib.sha256(reader.read()).digest() == hashlib.sha256(data).digest()


def test_sequential_reads_share_one_request(stored, monkeypatch):
    name, data = stored
    storage = footage_storage()
    reader = S3ObjectReader(storage.client, storage.bucket_name, storage.key(name))
    calls = []
    real_get = reader._client.get_object
    monkeypatch.setattr(reader._client, "get_object", lambda **kwargs: calls.append(kwargs) or real_get(**kwargs))

    received = b"".join(iter(lambda: reader.read(256 * 1024), b""))
    reader.seek(100)
    reader.read(5)

    assert received == data
    assert [call["Range"] for call in calls] == ["bytes=0-", "bytes=100-"]


def test_a_file_replaced_while_it_is_read_is_an_error_not_a_mix(stored):
    name, data = stored
    with footage_storage().open_reader(name) as reader:
        reader.read(10)
        replace_stored(name, os.urandom(len(data)))
        reader.seek(2 * MiB)  # beyond what the first request already streamed: a new request
        with pytest.raises(Exception, match="PreconditionFailed|412"):
            reader.read(10)


def test_reading_a_missing_file_raises_file_not_found(s3_footage):
    with pytest.raises(FileNotFoundError):
        footage_storage().open_reader("evidence/nothing.mp4")
    with pytest.raises(FileNotFoundError):
        list(footage_storage().iter_range("evidence/nothing.mp4", 0, 10))


def test_ranges_come_back_exactly(stored):
    name, data = stored
    assert b"".join(footage_storage().iter_range(name, 5, 1000, chunk_size=64)) == data[5:1005]
    assert b"".join(footage_storage().iter_range(name, len(data) - 3, 3)) == data[-3:]


# --- Evidence served from the bucket --------------------------------------------------------------------

@pytest.fixture
def evidence(s3_footage, approved_request, django_capture_on_commit_callbacks):
    upload = finished_upload(approved_request, lambda path: make_mp4(path, seconds=2))
    return submit(approved_request, upload, django_capture_on_commit_callbacks)


@pytest.mark.django_db
def test_evidence_in_the_bucket_downloads_byte_identical_and_audited(client, evidence, operator, login):
    login(client, operator)

    response = client.get(f"/staff/evidence/{evidence.pk}/file/", {"download": "1"})

    assert response.status_code == 200
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == evidence.sha256
    assert response["Content-Length"] == str(evidence.size)
    assert AuditEvent.objects.filter(action="footage.downloaded", actor=operator).count() == 1


@pytest.mark.django_db
def test_evidence_in_the_bucket_answers_range_requests(client, evidence, operator, login):
    login(client, operator)
    whole = b"".join(client.get(f"/staff/evidence/{evidence.pk}/file/").streaming_content)

    response = client.get(f"/staff/evidence/{evidence.pk}/file/", HTTP_RANGE="bytes=1000-1999")

    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 1000-1999/{evidence.size}"
    assert b"".join(response.streaming_content) == whole[1000:2000]


@pytest.mark.django_db
def test_staff_are_told_when_the_bucket_does_not_answer(client, evidence, operator, login, settings):
    login(client, operator)
    settings.STORAGES = unreachable(settings)

    response = client.get(f"/staff/evidence/{evidence.pk}/file/")

    assert response.status_code == 503
    assert response.content.decode() == "The footage store is not answering; please try again in a moment."


@pytest.mark.django_db
def test_missing_evidence_is_a_404_not_a_crash(client, evidence, operator, login):
    footage_storage().delete(submissions.evidence_name(evidence))
    login(client, operator)

    assert client.get(f"/staff/evidence/{evidence.pk}/file/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_under_asgi_the_file_streams_from_an_asynchronous_iterator(evidence, operator, client, login):
    """Django reads a synchronous iterator whole before an ASGI server sends it; evidence must stream."""
    login(client, operator)
    cookie = "; ".join(f"{name}={morsel.value}" for name, morsel in client.cookies.items())
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": f"/staff/evidence/{evidence.pk}/file/", "raw_path": b"", "query_string": b"", "root_path": "",
             "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
             "headers": [(b"host", b"testserver"), (b"cookie", cookie.encode())]}
    sent = []

    requested = []

    async def receive():
        if not requested:
            requested.append(True)
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # the client stays connected

    async def send(message):
        sent.append(message)

    with ThreadPoolExecutor(max_workers=1) as runner, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        runner.submit(asyncio.run, ASGIHandler()(scope, receive, send)).result(timeout=30)

    body = b"".join(message.get("body", b"") for message in sent if message["type"] == "http.response.body")
    assert sent[0]["status"] == 200
    assert hashlib.sha256(body).hexdigest() == evidence.sha256
    assert not [warning for warning in caught if "synchronous iterators" in str(warning.message)]


# --- Processing when the bucket is down -----------------------------------------------------------------

@pytest.mark.django_db
def test_a_bucket_that_does_not_answer_leaves_the_submission_to_be_retried(s3_footage, approved_request, settings):
    upload = finished_upload(approved_request, lambda path: make_mp4(path))
    submission = submissions.submission_create(footage_request=approved_request, upload=upload)
    working = settings.STORAGES
    settings.STORAGES = unreachable(settings)

    with pytest.raises(EndpointConnectionError):
        submissions.submission_process(submission_id=submission.pk)

    submission.refresh_from_db()
    assert submission.status == FootageSubmission.Status.PROCESSING
    assert Upload.objects.filter(pk=upload.pk).exists()
    settings.STORAGES = working  # the task's retry, once the bucket is back
    assert submissions.submission_process(submission_id=submission.pk).status == FootageSubmission.Status.ACCEPTED
