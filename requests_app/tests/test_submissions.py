"""From a finished upload to evidence: the worker checks the stored file against what was received, probes
it, and keeps or rejects it; on disk and in S3 alike."""

import pytest
from django.core import mail

from portal.models import AuditEvent
from requests_app import submissions
from requests_app.models import FootageSubmission, Upload
from requests_app.storage import footage_storage
from requests_app.tests.factories import finished_upload, submit
from requests_app.tests.footage import is_stored, replace_stored, stored_bytes, stored_sha256
from requests_app.tests.videos import make_mp4, make_truncated
from requests_app.tus_stores import upload_store

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("footage_backend")]


def test_a_real_video_becomes_evidence_with_its_hash_and_a_receipt(approved_request,
                                                                   django_capture_on_commit_callbacks):
    upload = finished_upload(approved_request, lambda path: make_mp4(path, seconds=2))
    received = upload.sha256

    submission = submit(approved_request, upload, django_capture_on_commit_callbacks)

    assert submission.status == FootageSubmission.Status.ACCEPTED
    assert submission.sha256 == received
    assert submission.media["codec"] == "h264" and submission.media["width"] == 320
    assert stored_sha256(submissions.evidence_name(submission)) == received
    assert not Upload.objects.exists()
    receipt = mail.outbox[-1]
    assert receipt.to == [approved_request.owner.email] and received in receipt.body
    assert AuditEvent.objects.filter(action="footage.accepted").exists()
    assert AuditEvent.objects.get(action="footage.uploaded").details["sha256_received"] == received


@pytest.mark.parametrize(("write", "reason"), [
    (lambda path: path.write_bytes(b"%PDF-1.4 not a video"), "PDF"),
    (lambda path: path.write_bytes(b""), "empty"),
])
def test_a_file_that_is_not_video_is_rejected_deleted_and_explained(approved_request, write, reason,
                                                                    django_capture_on_commit_callbacks):
    upload = finished_upload(approved_request, write)

    submission = submit(approved_request, upload, django_capture_on_commit_callbacks)

    assert submission.status == FootageSubmission.Status.REJECTED
    assert reason.lower() in submission.rejection_reason.lower()
    assert not is_stored(upload.storage_name) and not Upload.objects.exists()
    assert "could not be used" in mail.outbox[-1].subject


def test_a_truncated_video_is_rejected(approved_request, tmp_path, django_capture_on_commit_callbacks):
    source = tmp_path / "full.mp4"
    make_mp4(source, seconds=3, faststart=True)
    upload = finished_upload(approved_request, lambda path: make_truncated(path, source))

    submission = submit(approved_request, upload, django_capture_on_commit_callbacks)

    assert submission.status == FootageSubmission.Status.REJECTED
    assert "incomplete" in submission.rejection_reason or "damaged" in submission.rejection_reason


def test_a_stored_copy_that_differs_from_what_was_received_is_rejected(approved_request,
                                                                        django_capture_on_commit_callbacks):
    upload = finished_upload(approved_request, lambda path: make_mp4(path, seconds=2))
    upload_store().finalize(upload)
    data = bytearray(stored_bytes(upload.storage_name))
    data[len(data) // 2] ^= 0xFF  # one bit flipped in storage, same size
    replace_stored(upload.storage_name, bytes(data))

    submission = submit(approved_request, upload, django_capture_on_commit_callbacks)

    assert submission.status == FootageSubmission.Status.REJECTED
    assert "differs from what was received" in submission.rejection_reason
    assert not is_stored(upload.storage_name)


def test_a_stored_copy_of_the_wrong_size_is_rejected(approved_request, django_capture_on_commit_callbacks):
    upload = finished_upload(approved_request, lambda path: make_mp4(path, seconds=2))
    upload_store().finalize(upload)
    replace_stored(upload.storage_name, stored_bytes(upload.storage_name)[:-10])

    submission = submit(approved_request, upload, django_capture_on_commit_callbacks)

    assert submission.status == FootageSubmission.Status.REJECTED
    assert f"incomplete ({upload.length - 10} of {upload.length} bytes)" in submission.rejection_reason


def test_a_lost_file_is_rejected_with_a_reason(approved_request, django_capture_on_commit_callbacks):
    upload = finished_upload(approved_request, lambda path: make_mp4(path))
    upload_store().finalize(upload)
    footage_storage().delete(upload.storage_name)

    submission = submit(approved_request, upload, django_capture_on_commit_callbacks)

    assert submission.status == FootageSubmission.Status.REJECTED
    assert "lost before it could be checked" in submission.rejection_reason


def test_processing_again_after_a_crash_changes_nothing(approved_request, django_capture_on_commit_callbacks):
    upload = finished_upload(approved_request, lambda path: make_mp4(path))
    submission = submit(approved_request, upload, django_capture_on_commit_callbacks)
    sent = len(mail.outbox)

    again = submissions.submission_process(submission_id=submission.pk)

    assert again.status == FootageSubmission.Status.ACCEPTED and len(mail.outbox) == sent


def test_a_crash_after_moving_the_file_is_finished_on_the_next_run(approved_request):
    upload = finished_upload(approved_request, lambda path: make_mp4(path))
    submission = submissions.submission_create(footage_request=approved_request, upload=upload)
    upload_store().finalize(upload)  # the worker moved the file into evidence, then died before recording it

    processed = submissions.submission_process(submission_id=submission.pk)

    assert processed.status == FootageSubmission.Status.ACCEPTED
    assert is_stored(submissions.evidence_name(processed))
