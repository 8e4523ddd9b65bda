"""tus uploads on both stores (requests_app/tus_stores.py): a private folder and a real S3 server (SeaweedFS).

What a client sees must not depend on where the bytes go; then what only S3 has: parts of at least 5 MiB,
smaller pieces staged in the bucket, a lease instead of a file lock, and recovery from a crash or a bucket
that stops answering.
"""

import hashlib
import os
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from tusclient import client as tus_client

from requests_app import tus
from requests_app.hashing import ResumableSHA256
from requests_app.models import Upload
from requests_app.storage import footage_storage
from requests_app.tests.footage import stored_bytes
from requests_app.tests.test_tus import CREATE_URL, create_upload, live_headers, patch, text, tus_headers
from requests_app.tests.tus_urls import EVENTS
from requests_app.tus import delete_expired_uploads
from requests_app.tus_stores import S3_MIN_PART_BYTES, DiskUploadStore, upload_store

pytestmark = pytest.mark.urls("requests_app.tests.tus_urls")

KiB = 1024
MiB = 1024 * KiB


@pytest.fixture(autouse=True)
def _events():
    EVENTS.clear()
    yield
    EVENTS.clear()


def random_bytes(size):
    return os.urandom(size)


def finished_bytes(upload):
    """What a finished upload stored, read back through the footage storage."""
    upload.refresh_from_db()
    return stored_bytes(upload_store().finalize(upload))


def running_sha256(upload):
    upload.refresh_from_db()
    return ResumableSHA256(upload.sha256_state).hexdigest()


def bucket_keys(prefix=""):
    storage = footage_storage()
    listing = storage.client.list_objects_v2(Bucket=storage.bucket_name, Prefix=storage.key(prefix))
    return [entry["Key"] for entry in listing.get("Contents", ())]


def multipart_uploads():
    storage = footage_storage()
    return storage.client.list_multipart_uploads(Bucket=storage.bucket_name,
                                                 Prefix=storage.key("")).get("Uploads", [])


@contextmanager
def held_by_another_request(upload):
    """Another request is writing this upload: it holds the disk file's lock, or the row's lease."""
    if footage_storage().is_object_storage:
        Upload.objects.filter(pk=upload.pk).update(lease_token="another-request",
                                                   lease_expires_at=timezone.now() + timedelta(minutes=5))
        yield
        Upload.objects.filter(pk=upload.pk).update(lease_token="", lease_expires_at=None)
    else:
        import fcntl

        with open(DiskUploadStore(footage_storage()).part_path(upload), "rb") as other_writer:
            fcntl.flock(other_writer, fcntl.LOCK_EX)
            yield


# --- The same for both stores ------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("piece", [1 * MiB, 6 * MiB], ids=["pieces-of-1-MiB", "pieces-of-6-MiB"])
def test_tuspy_uploads_and_the_store_keeps_identical_bytes_and_their_sha256(live_server, resident, tmp_path,
                                                                           footage_backend, piece):
    data = random_bytes(13 * MiB + 4321)
    source = tmp_path / "front door.mp4"
    source.write_bytes(data)
    client = tus_client.TusClient(f"{live_server.url}{CREATE_URL}", headers=live_headers(live_server, resident))

    client.uploader(str(source), chunk_size=piece, metadata={"filename": "front door.mp4"}).upload()

    upload = Upload.objects.get()
    assert upload.completed_at is not None and upload.offset == len(data)
    assert upload.sha256 == hashlib.sha256(data).hexdigest()
    assert finished_bytes(upload) == data
    assert EVENTS == [("created", upload.id), ("completed", upload.id)]


@pytest.mark.django_db(transaction=True)
def test_an_interrupted_upload_resumes_from_the_servers_offset_with_its_fingerprint(live_server, resident, tmp_path,
                                                                                   footage_backend):
    data = random_bytes(7 * MiB + 99)
    source = tmp_path / "clip.mp4"
    source.write_bytes(data)
    headers = live_headers(live_server, resident)
    first = tus_client.TusClient(f"{live_server.url}{CREATE_URL}", headers=headers).uploader(
        str(source), chunk_size=3 * MiB)
    first.upload(stop_at=3 * MiB)  # the phone lost its connection
    assert running_sha256(Upload.objects.get()) == hashlib.sha256(data[:3 * MiB]).hexdigest()

    second = tus_client.TusClient(f"{live_server.url}{CREATE_URL}", headers=headers).uploader(
        str(source), url=first.url, chunk_size=5 * MiB)
    assert second.offset == 3 * MiB
    second.upload()

    upload = Upload.objects.get()
    assert upload.sha256 == hashlib.sha256(data).hexdigest()
    assert finished_bytes(upload) == data


@pytest.mark.django_db
def test_a_piece_at_the_wrong_offset_changes_nothing_and_the_upload_goes_on(uploader, footage_backend):
    data = random_bytes(6 * MiB)
    url, upload = create_upload(uploader, len(data))
    assert patch(uploader, url, data[:2 * MiB], 0).status_code == 204

    refused = patch(uploader, url, data[:MiB], 0)

    assert refused.status_code == 409
    assert text(refused) == f"The upload is at byte {2 * MiB}, not 0; resume from there."
    assert running_sha256(upload) == hashlib.sha256(data[:2 * MiB]).hexdigest()
    assert patch(uploader, url, data[2 * MiB:], 2 * MiB)["Upload-Offset"] == str(len(data))
    assert finished_bytes(upload) == data


@pytest.mark.django_db
def test_a_piece_waits_for_another_writer_and_gives_up_with_423(uploader, footage_backend, monkeypatch):
    from requests_app import tus_stores

    monkeypatch.setattr(tus_stores, "LOCK_WAIT_SECONDS", 0.3)
    url, upload = create_upload(uploader, 1000)

    with held_by_another_request(upload):
        refused = patch(uploader, url, b"a" * 100, 0)

    assert refused.status_code == 423
    assert text(refused) == "Another part of this upload is still being saved; please try again in a moment."
    upload.refresh_from_db()
    assert upload.offset == 0
    assert patch(uploader, url, b"a" * 1000, 0).status_code == 204
    assert finished_bytes(upload) == b"a" * 1000


@pytest.mark.django_db
def test_cancelling_removes_every_byte_received(uploader, footage_backend):
    url, upload = create_upload(uploader, 12 * MiB)
    patch(uploader, url, random_bytes(6 * MiB), 0)
    patch(uploader, url, random_bytes(MiB), 6 * MiB)

    assert uploader.delete(url, headers=tus_headers()).status_code == 204

    assert not Upload.objects.exists()
    if footage_backend == "s3":
        assert multipart_uploads() == [] and bucket_keys() == []
    else:
        assert not DiskUploadStore(footage_storage()).part_path(upload).exists()
    assert EVENTS == [("created", upload.id), ("terminated", upload.id)]


@pytest.mark.django_db
def test_an_expired_upload_is_removed_with_its_bytes(uploader, footage_backend):
    url, upload = create_upload(uploader, 12 * MiB)
    patch(uploader, url, random_bytes(6 * MiB), 0)
    patch(uploader, url, random_bytes(MiB), 6 * MiB)
    Upload.objects.filter(pk=upload.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    assert delete_expired_uploads() == 1

    assert not Upload.objects.exists()
    if footage_backend == "s3":
        assert multipart_uploads() == [] and bucket_keys() == []
    else:
        assert not DiskUploadStore(footage_storage()).part_path(upload).exists()


@pytest.mark.django_db
def test_an_empty_file_is_complete_at_once_and_stored(uploader, footage_backend):
    response = uploader.post(CREATE_URL, data=b"", content_type="application/octet-stream",
                             headers=tus_headers(Upload_Length="0"))

    upload = Upload.objects.get()
    assert response.status_code == 201 and upload.completed_at is not None
    assert upload.sha256 == hashlib.sha256(b"").hexdigest()
    assert finished_bytes(upload) == b""


# --- S3 only -------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_pieces_under_5_mib_are_staged_in_the_bucket_until_a_part_is_full(uploader, s3_footage):
    data = random_bytes(13 * MiB)
    url, upload = create_upload(uploader, len(data))
    staged_key = footage_storage().key(f"uploads/{upload.id}.staged")

    patch(uploader, url, data[:2 * MiB], 0)
    patch(uploader, url, data[2 * MiB:4 * MiB], 2 * MiB)
    upload.refresh_from_db()
    assert (upload.parts, upload.staged_bytes, upload.offset) == ([], 4 * MiB, 4 * MiB)
    assert staged_key in bucket_keys("uploads")
    assert multipart_uploads() == []  # nothing sent as a part yet

    patch(uploader, url, data[4 * MiB:6 * MiB], 4 * MiB)
    upload.refresh_from_db()
    assert [(number, size) for number, _etag, size, _checksum in upload.parts] == [(1, 6 * MiB)]
    assert upload.staged_bytes == 0
    assert [entry["UploadId"] for entry in multipart_uploads()] == [upload.storage_upload_id]

    patch(uploader, url, data[6 * MiB:], 6 * MiB)  # 7 MiB: a part on its own, and the last
    upload.refresh_from_db()
    assert [(number, size) for number, _etag, size, _checksum in upload.parts] == [(1, 6 * MiB), (2, 7 * MiB)]
    assert upload.completed_at is not None and upload.sha256 == hashlib.sha256(data).hexdigest()
    assert multipart_uploads() == []
    assert bucket_keys() == [footage_storage().key(upload.storage_name)]  # the staged piece is gone
    assert finished_bytes(upload) == data


@pytest.mark.django_db
def test_each_part_carries_its_sha256_for_the_bucket_to_check(uploader, s3_footage):
    data = random_bytes(6 * MiB)
    url, upload = create_upload(uploader, 12 * MiB)

    patch(uploader, url, data, 0)

    upload.refresh_from_db()
    import base64

    assert upload.parts[0][3] == base64.b64encode(hashlib.sha256(data).digest()).decode()


def test_parts_grow_so_that_the_largest_file_stays_within_10000_parts(settings):
    from requests_app.tus_stores import S3UploadStore

    store = S3UploadStore(storage=None)
    assert store.part_bytes(Upload(length=10 * 1024**3)) == S3_MIN_PART_BYTES
    huge = Upload(length=100 * 1024**3)
    assert huge.length / store.part_bytes(huge) < 10_000


class CrashBeforeRecording(Exception):
    pass


def crash_before_the_next_record(monkeypatch):
    """The next PATCH dies after storing its bytes, before recording them (a process killed there)."""
    real_record = tus.TusUploadView._record
    calls = []

    def crash_once(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise CrashBeforeRecording
        return real_record(self, *args, **kwargs)

    monkeypatch.setattr(tus.TusUploadView, "_record", crash_once)


@pytest.mark.django_db
def test_a_crash_after_a_part_reached_the_bucket_but_before_it_was_recorded_loses_nothing(uploader, s3_footage,
                                                                                          monkeypatch):
    data = random_bytes(12 * MiB)
    url, upload = create_upload(uploader, len(data))
    crash_before_the_next_record(monkeypatch)
    with pytest.raises(CrashBeforeRecording):
        patch(uploader, url, data[:6 * MiB], 0)
    upload.refresh_from_db()
    assert upload.offset == 0 and upload.parts == []

    assert patch(uploader, url, data[:6 * MiB], 0)["Upload-Offset"] == str(6 * MiB)  # sent again, same part
    assert patch(uploader, url, data[6 * MiB:], 6 * MiB).status_code == 204
    assert finished_bytes(upload) == data
    assert Upload.objects.get().sha256 == hashlib.sha256(data).hexdigest()


@pytest.mark.django_db
def test_a_crash_after_the_last_part_completed_the_file_is_recovered_when_the_piece_comes_again(
        uploader, s3_footage, monkeypatch):
    data = random_bytes(7 * MiB)
    url, upload = create_upload(uploader, len(data))
    patch(uploader, url, data[:6 * MiB], 0)
    crash_before_the_next_record(monkeypatch)
    with pytest.raises(CrashBeforeRecording):
        patch(uploader, url, data[6 * MiB:], 6 * MiB)
    assert multipart_uploads() == []  # completed in the bucket, not yet on the row

    again = patch(uploader, url, data[6 * MiB:], 6 * MiB)

    assert (again.status_code, again["Upload-Offset"]) == (204, str(len(data)))
    assert finished_bytes(upload) == data
    assert Upload.objects.get().sha256 == hashlib.sha256(data).hexdigest()
    assert EVENTS == [("created", upload.id), ("completed", upload.id)]


@pytest.mark.django_db
def test_a_lost_staged_piece_ends_the_upload_with_410(uploader, s3_footage):
    url, upload = create_upload(uploader, 12 * MiB)
    patch(uploader, url, random_bytes(MiB), 0)
    storage = footage_storage()
    storage.client.delete_object(Bucket=storage.bucket_name, Key=storage.key(f"uploads/{upload.id}.staged"))

    response = patch(uploader, url, random_bytes(MiB), MiB)

    assert response.status_code == 410
    assert text(response) == ("The parts of this upload received so far are no longer stored; please start it "
                              "again.")


@pytest.mark.django_db
def test_a_bucket_that_does_not_answer_gets_503_and_changes_nothing(uploader, s3_footage, settings):
    data = random_bytes(6 * MiB)
    url, upload = create_upload(uploader, len(data))
    working = settings.STORAGES
    footage = working["footage"]
    settings.STORAGES = {**working, "footage": {**footage, "OPTIONS": {**footage["OPTIONS"],
                                                                        "endpoint_url": "http://127.0.0.1:9"}}}

    response = patch(uploader, url, data, 0)

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert text(response) == "The footage store is not answering; please try again in a moment."
    upload.refresh_from_db()
    assert (upload.offset, upload.lease_token) == (0, "")
    settings.STORAGES = working
    assert patch(uploader, url, data, 0).status_code == 204
    assert finished_bytes(upload) == data


@pytest.mark.django_db
def test_a_writer_whose_lease_was_taken_over_records_nothing(uploader, s3_footage, monkeypatch):
    from requests_app import tus_stores

    url, upload = create_upload(uploader, 6 * MiB)
    real_receive = tus_stores._S3Writer.receive

    def slow_receive(self, *args, **kwargs):
        received = real_receive(self, *args, **kwargs)
        # Meanwhile the lease ran out and another request took the upload over.
        Upload.objects.filter(pk=upload.pk).update(lease_token="the-other-request")
        return received

    monkeypatch.setattr(tus_stores._S3Writer, "receive", slow_receive)
    response = patch(uploader, url, random_bytes(6 * MiB), 0)

    assert response.status_code == 423
    upload.refresh_from_db()
    assert (upload.offset, upload.parts) == (0, [])


@pytest.mark.django_db
def test_the_hourly_sweep_aborts_multipart_uploads_and_staged_pieces_no_upload_owns(uploader, s3_footage):
    storage = footage_storage()
    url, kept = create_upload(uploader, 12 * MiB)
    patch(uploader, url, random_bytes(6 * MiB), 0)
    patch(uploader, url, random_bytes(MiB), 6 * MiB)
    Upload.objects.filter(pk=kept.pk).update(expires_at=timezone.now() + timedelta(days=30))
    stray = storage.client.create_multipart_upload(Bucket=storage.bucket_name, Key=storage.key("evidence/lost.mp4"))
    stray_staged = storage.key("uploads/00000000-0000-4000-8000-000000000000.staged")
    storage.client.put_object(Bucket=storage.bucket_name, Key=stray_staged, Body=b"left behind")

    assert delete_expired_uploads() == 0  # nothing is old enough yet
    assert delete_expired_uploads(now=timezone.now() + timedelta(hours=49)) == 2

    kept.refresh_from_db()
    assert [entry["UploadId"] for entry in multipart_uploads()] == [kept.storage_upload_id]
    assert stray["UploadId"] != kept.storage_upload_id
    assert stray_staged not in bucket_keys("uploads")
    assert storage.key(f"uploads/{kept.id}.staged") in bucket_keys("uploads")


# --- Pieces of one upload through two web processes ---------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_pieces_alternating_between_two_web_processes_make_one_file(django_db_blocker, resident, s3_footage,
                                                                    settings):
    import requests

    from conftest import AsgiServer

    servers = [AsgiServer(django_db_blocker, STORAGES=settings.STORAGES, ROOT_URLCONF="requests_app.tests.tus_urls")
               for _ in range(2)]
    try:
        browser = Client()
        browser.force_login(resident)
        cookies = {name: morsel.value for name, morsel in browser.cookies.items()}
        token = requests.get(f"{servers[0].url}/tus-test/csrf/", cookies=cookies, timeout=30)
        cookies.update(token.cookies.get_dict())
        headers = {**tus_headers(), "X-CSRFToken": token.text}
        data = random_bytes(20 * MiB + 17)
        created = requests.post(f"{servers[0].url}{CREATE_URL}", cookies=cookies, timeout=30,
                                headers={**headers, "Upload-Length": str(len(data))})
        assert created.status_code == 201, created.text
        path = created.headers["Location"]
        offset, turn = 0, 0
        while offset < len(data):
            piece = data[offset:offset + 6 * MiB] if turn % 3 else data[offset:offset + MiB]  # parts and staging
            response = requests.patch(f"{servers[turn % 2].url}{path}", data=piece, cookies=cookies, timeout=60,
                                      headers={**headers, "Upload-Offset": str(offset),
                                               "Content-Type": "application/offset+octet-stream"})
            assert response.status_code == 204, response.text
            offset = int(response.headers["Upload-Offset"])
            turn += 1
        assert int(requests.head(f"{servers[1].url}{path}", cookies=cookies, headers=headers,
                                 timeout=30).headers["Upload-Offset"]) == len(data)
    finally:
        for server in servers:
            server.stop()

    upload = Upload.objects.get()
    assert turn > 4
    assert upload.sha256 == hashlib.sha256(data).hexdigest()
    assert finished_bytes(upload) == data
