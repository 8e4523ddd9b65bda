"""Writes for uploaded footage: from a finished upload to accepted evidence or a clear rejection."""

import logging
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from incidents.realtime import publish_incident_event
from portal.audit import audit_record
from requests_app.media import NotVideoError, probe_video, sha256_file
from requests_app.models import FootageRequest, FootageSubmission, Upload
from requests_app.storage import footage_storage
from requests_app.tus_stores import upload_store

logger = logging.getLogger(__name__)

EVIDENCE_FOLDER = "evidence"
# A check still not done this long after its file arrived has no task coming any more (lost with a
# Redis broker that was down or crashed, or given up after django-q2's attempts): it is queued again.
STALLED_AFTER = timedelta(minutes=15)


def evidence_storage_name(upload):
    """Where an upload for a footage request is kept once finished: evidence/<upload id><extension>."""
    suffix = Path(upload.filename).suffix.lower()[:10] if upload.filename else ""
    return f"{EVIDENCE_FOLDER}/{upload.id}{suffix if suffix.isascii() else ''}"


def evidence_name(submission):
    """The submission's file in the footage storage."""
    return f"{EVIDENCE_FOLDER}/{submission.stored_name}"


@transaction.atomic
def submission_create(*, footage_request, upload, uploader=None, ip_address=None):
    """Record a finished upload and have a worker check it. Idempotent per upload."""
    existing = FootageSubmission.objects.filter(upload=upload).first()
    if existing is not None:
        return existing
    name = upload.storage_name or evidence_storage_name(upload)
    submission = FootageSubmission.objects.create(
        footage_request=footage_request, upload=upload, original_name=upload.filename or _("video"),
        stored_name=name.removeprefix(f"{EVIDENCE_FOLDER}/"), size=upload.length, uploader=uploader,
        ip_address=ip_address)
    audit_record(action="footage.uploaded", actor=uploader, **footage_request.audit_subject(),
                 target=f"submission:{submission.pk}",
                 incident_reference=footage_request.area_request.incident.reference, ip_address=ip_address,
                 details={"name": submission.original_name, "size": submission.size,
                          "sha256_received": upload.sha256})
    submission_id = submission.pk
    # robust: if the broker is away the upload is still complete; submissions_requeue_stalled checks it later.
    transaction.on_commit(lambda: _queue_processing(submission_id), robust=True)
    _publish(submission)
    return submission


def _publish(submission):
    footage_request = submission.footage_request
    publish_incident_event(footage_request.area_request.incident, "footage", submission=submission.pk,
                           owner=footage_request.owner.display_name, name=submission.original_name,
                           status=submission.status, status_label=str(submission.get_status_display()))


def _queue_processing(submission_id):
    from django_q.tasks import async_task

    async_task("requests_app.tasks.process_submission", submission_id, task_name=f"submission-{submission_id}")


def submissions_requeue_stalled(*, now=None):
    """Queue the check again for every file still being checked STALLED_AFTER after it arrived; returns
    how many. The check is safe to run twice, so one still on its way does no harm."""
    now = now or timezone.now()
    stalled = list(FootageSubmission.objects.stalled(now - STALLED_AFTER).values_list("pk", flat=True))
    for submission_id in stalled:
        _queue_processing(submission_id)
    if stalled:
        logger.warning("Queued the check of %d stalled submission(s) again", len(stalled))
    return len(stalled)


def submission_process(*, submission_id):
    """Check the stored file against what was received (size and SHA-256), probe it, and keep it as
    evidence or reject it. Safe to run again after a crash; a store that does not answer raises, and the
    task is retried."""
    submission = FootageSubmission.objects.select_related("upload", "footage_request__owner",
                                                          "footage_request__area_request__incident").get(pk=submission_id)
    if submission.status != FootageSubmission.Status.PROCESSING:
        return submission
    upload = submission.upload
    name = upload_store().finalize(upload) if upload is not None else evidence_name(submission)
    try:
        stored, digest, facts = _check_stored(name, submission)
    except NotVideoError as error:
        return _reject(submission, name, error.reason)
    with transaction.atomic():
        submission = FootageSubmission.objects.select_for_update().get(pk=submission_id)
        if submission.status != FootageSubmission.Status.PROCESSING:
            return submission
        submission.status, submission.sha256, submission.media = (FootageSubmission.Status.ACCEPTED, digest,
                                                                  facts.as_dict())
        submission.size, submission.processed_at = stored, timezone.now()
        submission.save(update_fields=["status", "sha256", "media", "size", "processed_at"])
        if submission.upload_id:
            Upload.objects.filter(pk=submission.upload_id).delete()
        audit_record(action="footage.accepted", target=f"submission:{submission.pk}",
                     **submission.footage_request.audit_subject(),
                     incident_reference=submission.footage_request.area_request.incident.reference,
                     details={"sha256": digest, "size": submission.size, **facts.as_dict()})
        transaction.on_commit(lambda: _email_owner(submission, accepted=True))
        _publish(submission)
    return submission


def _check_stored(name, submission):
    """(size, SHA-256, media facts) of the stored file, or NotVideoError with the reason told to the owner."""
    storage, upload = footage_storage(), submission.upload
    try:
        stored = storage.size(name)
    except FileNotFoundError:
        raise NotVideoError(_("The uploaded file was lost before it could be checked; please upload it "
                              "again.")) from None
    expected = upload.length if upload is not None else submission.size
    if stored != expected:
        raise NotVideoError(_("The stored copy of this file is incomplete (%(stored)s of %(expected)s bytes); "
                              "please upload it again.") % {"stored": stored, "expected": expected})
    with storage.open_reader(name) as reader:
        digest = sha256_file(reader)
        if upload is not None and upload.sha256 and digest != upload.sha256:
            logger.error("Submission %s: the stored file's SHA-256 %s differs from the %s received",
                         submission.pk, digest, upload.sha256)
            raise NotVideoError(_("The stored copy of this file differs from what was received; please upload "
                                  "it again."))
        return stored, digest, probe_video(reader)


def _reject(submission, name, reason):
    if name is not None:
        footage_storage().delete(name)
    with transaction.atomic():
        submission = FootageSubmission.objects.select_for_update().get(pk=submission.pk)
        if submission.status != FootageSubmission.Status.PROCESSING:
            return submission
        submission.status, submission.rejection_reason = FootageSubmission.Status.REJECTED, reason[:500]
        submission.processed_at = timezone.now()
        submission.save(update_fields=["status", "rejection_reason", "processed_at"])
        if submission.upload_id:
            Upload.objects.filter(pk=submission.upload_id).delete()
        audit_record(action="footage.rejected", target=f"submission:{submission.pk}",
                     **submission.footage_request.audit_subject(),
                     incident_reference=submission.footage_request.area_request.incident.reference,
                     details={"reason": reason})
        transaction.on_commit(lambda: _email_owner(submission, accepted=False))
        _publish(submission)
    return submission


def _email_owner(submission, *, accepted):
    owner = submission.footage_request.owner
    context = {"submission": submission, "owner": owner, "CITY_NAME": settings.CITY_NAME,
               "PROGRAM_NAME": settings.PROGRAM_NAME}
    with translation.override(owner.language or settings.LANGUAGE_CODE):
        if accepted:
            subject = _("Receipt: your video “%(name)s” was received") % {"name": submission.original_name}
        else:
            subject = _("Your file “%(name)s” could not be used") % {"name": submission.original_name}
        body = render_to_string("requests_app/email/submission_receipt.txt", {**context, "accepted": accepted})
    try:
        send_mail(subject, body, None, [owner.email])
    except Exception:  # the receipt is also on the request page; a mail failure must not undo the evidence
        logger.exception("Receipt e-mail for submission %s failed", submission.pk)


def open_submissions_total(footage_request):
    """(files, bytes) already uploaded or being uploaded for a request, for the per-request limits."""
    submissions = footage_request.submissions.exclude(status=FootageSubmission.Status.REJECTED)
    in_progress = Upload.objects.filter(scope=upload_scope(footage_request), completed_at__isnull=True)
    files = submissions.count() + in_progress.count()
    total = sum(submissions.values_list("size", flat=True)) + sum(in_progress.values_list("length", flat=True))
    return files, total


def upload_scope(footage_request):
    return f"footage-request:{footage_request.pk}"


def can_upload(footage_request):
    return (footage_request.status == FootageRequest.Status.APPROVED
            and footage_request.expires_at > timezone.now())
