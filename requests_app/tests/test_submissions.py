import hashlib

import pytest
from django.core import mail

from portal.models import AuditEvent
from requests_app import submissions
from requests_app.models import FootageSubmission, Upload
from requests_app.tests.factories import finished_upload, submit
from requests_app.tests.videos import make_mp4, make_truncated

pytestmark = pytest.mark.django_db


def test_a_real_video_becomes_evidence_with_its_hash_and_a_receipt(approved_request,
                                                                   django_capture_on_commit_callbacks):
    upload = finished_upload(approved_request, lambda path: make_mp4(path, seconds=2))
    digest = hashlib.sha256(upload.path.read_bytes()).hexdigest()

    submission = submit(approved_request, upload, django_capture_on_commit_callbacks)

    assert submission.status == FootageSubmission.Status.ACCEPTED
    assert submission.sha256 == digest
    assert submission.media["codec"] == "h264" and submission.media["width"] == 320
    stored = submissions.evidence_path(submission)
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == digest
    assert not Upload.objects.exists()
    receipt = mail.outbox[-1]
    assert receipt.to == [approved_request.owner.email] and digest in receipt.body
    assert AuditEvent.objects.filter(action="footage.accepted").exists()


@pytest.mark.parametrize(("write", "reason"), [
    (lambda path: path.write_bytes(b"%PDF-1.4 not a video"), "PDF"),
    (lambda path: path.write_bytes(b""), "empty"),
])
def test_a_file_that_is_not_video_is_rejected_deleted_and_explained(approved_request, write, reason,
                                                                    django_capture_on_commit_callbacks):
    upload = finished_upload(approved_request, write)
    path = upload.path

    submission = submit(approved_request, upload, django_capture_on_commit_callbacks)

    assert submission.status == FootageSubmission.Status.REJECTED
    assert reason.lower() in submission.rejection_reason.lower()
    assert not path.exists() and not Upload.objects.exists()
    assert "could not be used" in mail.outbox[-1].subject


def test_a_truncated_video_is_rejected(approved_request, tmp_path, django_capture_on_commit_callbacks):
    source = tmp_path / "full.mp4"
    make_mp4(source, seconds=3, faststart=True)
    upload = finished_upload(approved_request, lambda path: make_truncated(path, source))

    submission = submit(approved_request, upload, django_capture_on_commit_callbacks)

    assert submission.status == FootageSubmission.Status.REJECTED
    assert "incomplete" in submission.rejection_reason or "damaged" in submission.rejection_reason


def test_processing_again_after_a_crash_changes_nothing(approved_request, django_capture_on_commit_callbacks):
    upload = finished_upload(approved_request, lambda path: make_mp4(path))
    submission = submit(approved_request, upload, django_capture_on_commit_callbacks)
    sent = len(mail.outbox)

    again = submissions.submission_process(submission_id=submission.pk)

    assert again.status == FootageSubmission.Status.ACCEPTED and len(mail.outbox) == sent


def test_a_crash_after_moving_the_file_is_finished_on_the_next_run(approved_request):
    upload = finished_upload(approved_request, lambda path: make_mp4(path))
    submission = submissions.submission_create(footage_request=approved_request, upload=upload)
    target = submissions.evidence_path(submission)
    target.parent.mkdir(parents=True, exist_ok=True)
    upload.path.rename(target)  # the worker moved the file, then died before recording it

    processed = submissions.submission_process(submission_id=submission.pk)

    assert processed.status == FootageSubmission.Status.ACCEPTED and target.exists()
