"""Writes for uploaded footage: from a finished upload to accepted evidence or a clear rejection."""

import logging
import os
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

logger = logging.getLogger(__name__)


def evidence_path(submission):
    return settings.FOOTAGE_ROOT / "evidence" / submission.stored_name


@transaction.atomic
def submission_create(*, footage_request, upload, uploader=None, ip_address=None):
    """Record a finished upload and have a worker check it. Idempotent per upload."""
    existing = FootageSubmission.objects.filter(upload=upload).first()
    if existing is not None:
        return existing
    suffix = Path(upload.filename).suffix.lower()[:10] if upload.filename else ""
    submission = FootageSubmission.objects.create(
        footage_request=footage_request, upload=upload, original_name=upload.filename or _("video"),
        stored_name=f"{upload.id}{suffix if suffix.isascii() else ''}", size=upload.length, uploader=uploader,
        ip_address=ip_address)
    audit_record(action="footage.uploaded", actor=uploader, **footage_request.audit_subject(),
                 target=f"submission:{submission.pk}",
                 incident_reference=footage_request.area_request.incident.reference, ip_address=ip_address,
                 details={"name": submission.original_name, "size": submission.size})
    submission_id = submission.pk
    transaction.on_commit(lambda: _queue_processing(submission_id))
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


def submission_process(*, submission_id):
    """Hash and probe the file; keep it as evidence or reject it. Safe to run again after a crash."""
    submission = FootageSubmission.objects.select_related("upload", "footage_request__owner",
                                                          "footage_request__area_request__incident").get(pk=submission_id)
    if submission.status != FootageSubmission.Status.PROCESSING:
        return submission
    target = evidence_path(submission)
    source = target if target.exists() else (submission.upload.path if submission.upload else None)
    if source is None or not source.exists():
        return _reject(submission, None, _("The uploaded file was lost before it could be checked; please upload "
                                           "it again."))
    try:
        facts = probe_video(source)
    except NotVideoError as error:
        return _reject(submission, source, str(error))
    digest = sha256_file(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    if source != target:
        os.replace(source, target)  # atomic on one file system: a crash leaves it in one place or the other
    with transaction.atomic():
        submission = FootageSubmission.objects.select_for_update().get(pk=submission_id)
        if submission.status != FootageSubmission.Status.PROCESSING:
            return submission
        submission.status, submission.sha256, submission.media = (FootageSubmission.Status.ACCEPTED, digest,
                                                                  facts.as_dict())
        submission.size, submission.processed_at = target.stat().st_size, timezone.now()
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


def _reject(submission, source, reason):
    if source is not None and source.exists():
        source.unlink()
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
