"""Evidence packages: an incident's footage in one ZIP for prosecutors and defence, with proof nothing changed.

A package is fixed when it is created: which files, and a manifest (their SHA-256, size and media facts,
who gave them, for which request and cameras, and the audit events about them up to then, with the
events' hashes). Every download streams the same ZIP: the original files under ``files/``, that
manifest, ``custody_report.pdf``, ``verify.py`` (requests_app/package_verify.py, copied verbatim; it
re-hashes the files against the manifest with Python's standard library only) and a README.

The ZIP is written as it is sent: zipfile writes into a small buffer that cannot seek (so every entry
carries a data descriptor and ZIP64 sizes), drained after each piece read from the footage storage.
A package of many gigabytes never sits in memory, from a folder or an S3 bucket alike.
"""

import hashlib
import io
import json
import re
import zipfile
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal.audit import audit_record
from portal.models import AuditEvent
from requests_app import package_verify
from requests_app.models import EvidencePackage, EvidencePackageLink, FootageSubmission
from requests_app.storage import footage_storage
from requests_app.submissions import evidence_name
from requests_app.tokens import new_token

READ_PIECE = 1024 * 1024
LINK_MAX_DAYS = 30
VERIFY_SCRIPT = Path(package_verify.__file__)
MANIFEST_FORMAT = "community-camera-portal/evidence-package/1"


def packageable_submissions(incident):
    """The incident's files that can go into a package: accepted and not deleted (nor being deleted)."""
    return (FootageSubmission.objects.accepted().filter(footage_request__area_request__incident=incident,
                                                         tombstone__isnull=True)
            .select_related("footage_request__owner", "footage_request__area_request")
            .order_by("created_at", "pk"))


def zip_name(submission):
    """The file's name inside the package: files/<submission id>-<its original name, made safe>."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(submission.original_name).name).strip("._") or "video"
    return f"{package_verify.FILES_FOLDER}{submission.pk}-{safe[:120]}"


def _iso(moment):
    return moment.isoformat() if moment else None


def _events_about(submission):
    footage_request = submission.footage_request
    targets = [f"submission:{submission.pk}", f"footage_request:{footage_request.pk}",
               f"area_request:{footage_request.area_request_id}"]
    return [{"id": event.pk, **event.content(), "previous_hash": event.previous_hash, "hash": event.hash}
            for event in AuditEvent.objects.filter(target__in=targets).in_chain_order()]


def _file_entry(submission):
    footage_request = submission.footage_request
    media = submission.media or {}
    return {
        "name": zip_name(submission),
        "original_name": submission.original_name,
        "submission_id": submission.pk,
        "sha256": submission.sha256,
        "size": submission.size,
        "container": media.get("container"),
        "codec": media.get("codec"),
        "duration_s": media.get("duration_s"),
        "width": media.get("width"),
        "height": media.get("height"),
        "owner": footage_request.owner.display_name,
        "footage_request_id": footage_request.pk,
        "area_request_id": footage_request.area_request_id,
        "case_number": footage_request.area_request.case_number,
        "cameras": [{"id": camera.pk, "name": camera.name} for camera in footage_request.cameras.all()]
        or [{"id": None, "name": name} for name in footage_request.camera_names],
        "uploaded_at": _iso(submission.created_at),
        "accepted_at": _iso(submission.processed_at),
        "audit_events": _events_about(submission),
    }


def build_manifest(*, package_id, incident, submissions, created_by, created_at):
    """The manifest as a dict (see docs/requests.md, "Evidence package")."""
    return {
        "format": MANIFEST_FORMAT,
        "package_id": str(package_id),
        "program": settings.PROGRAM_NAME,
        "city": settings.CITY_NAME,
        "incident": {"reference": incident.reference, "type": incident.incident_type,
                     "case_number": incident.case_number, "address": incident.address,
                     "window_start": _iso(incident.window_start), "window_end": _iso(incident.window_end)},
        "created_at": _iso(created_at),
        "created_by": created_by.staff_label,
        "created_by_id": created_by.pk,
        "hash_algorithm": "sha256",
        "files": [_file_entry(submission) for submission in submissions],
    }


def _chosen(incident, submission_ids):
    available = list(packageable_submissions(incident))
    if submission_ids is None:
        chosen = available
    else:
        wanted = {int(pk) for pk in submission_ids}
        chosen = [each for each in available if each.pk in wanted]
        if len(chosen) != len(wanted):
            raise ValidationError(_("Some of the files chosen are not accepted footage of this incident (or were "
                                    "deleted since); reload the page and choose again."), code="not_packageable")
    if not chosen:
        raise ValidationError(_("Choose at least one accepted file for the package."), code="empty")
    return chosen


@transaction.atomic
def evidence_package_create(*, incident, actor, submission_ids=None, ip_address=None):
    """Fix a package of the incident's accepted files (all of them, or those with `submission_ids`)."""
    submissions = _chosen(incident, submission_ids)
    package = EvidencePackage(incident=incident, created_by=actor, created_at=timezone.now())
    manifest = build_manifest(package_id=package.id, incident=incident, submissions=submissions,
                              created_by=actor, created_at=package.created_at)
    package.manifest = json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
    package.manifest_sha256 = hashlib.sha256(package.manifest.encode()).hexdigest()
    package.save(force_insert=True)
    package.submissions.set(submissions)
    audit_record(action="evidence.package_created", actor=actor, target=f"evidence_package:{package.pk}",
                 incident_reference=incident.reference, ip_address=ip_address,
                 details={"submissions": [each.pk for each in submissions],
                          "manifest_sha256": package.manifest_sha256})
    return package


def package_files(package):
    """The package's submissions in manifest order, or ValidationError when one can no longer be served: deleted
    under the retention rules, or its stored copy missing (checked before the first byte is sent, so a ZIP is
    never cut short)."""
    submissions = list(package.submissions.select_related("footage_request__owner", "tombstone")
                       .prefetch_related("footage_request__cameras").order_by("created_at", "pk"))
    gone = [each.original_name for each in submissions
            if each.status != FootageSubmission.Status.ACCEPTED or hasattr(each, "tombstone")]
    if gone:
        raise ValidationError(ngettext(
            "This package can no longer be downloaded: %(names)s was deleted under the retention rules.",
            "This package can no longer be downloaded: %(names)s were deleted under the retention rules.",
            len(gone)) % {"names": ", ".join(gone)}, code="deleted")
    storage = footage_storage()
    for submission in submissions:
        if _stored_size(storage, submission) != submission.size:
            raise ValidationError(_("The stored copy of %(name)s is missing or incomplete, so the package cannot "
                                    "be given. Tell the portal's administrator.") % {"name": submission.original_name},
                                  code="missing")
    return submissions


def _stored_size(storage, submission):
    try:
        return storage.size(evidence_name(submission))
    except FileNotFoundError:
        return None


def evidence_package_record_download(*, package, submissions, actor=None, link=None, ip_address=None):
    """Audit a download, once per file so each owner's access log and each file's custody chain show it."""
    action = "evidence.package_shared_download" if link is not None else "evidence.package_downloaded"
    with transaction.atomic():
        if link is not None:
            EvidencePackageLink.objects.filter(pk=link.pk).update(download_count=F("download_count") + 1,
                                                                  last_downloaded_at=timezone.now())
        for submission in submissions:
            details = {"package": str(package.pk), "manifest_sha256": package.manifest_sha256,
                       "sha256": submission.sha256}
            if link is not None:
                details.update(link=link.pk, recipient=link.recipient)
            audit_record(action=action, actor=actor, **submission.footage_request.audit_subject(),
                         target=f"submission:{submission.pk}", incident_reference=package.incident.reference,
                         ip_address=ip_address, details=details)


@transaction.atomic
def evidence_package_link_create(*, package, actor, recipient, days, ip_address=None):
    """A link for `recipient` to download the package for `days` days; returns (link, token). Only the
    token's SHA-256 is kept: the link is shown once."""
    recipient = (recipient or "").strip()
    if not recipient:
        raise ValidationError({"recipient": _("Say who the link is for, e.g. “District Attorney’s office, "
                                              "J. Rivera”.")})
    if not 1 <= days <= LINK_MAX_DAYS:
        raise ValidationError({"days": _("A link lasts from 1 to %(max)s days.") % {"max": LINK_MAX_DAYS}})
    token, digest = new_token()
    link = EvidencePackageLink.objects.create(package=package, token_hash=digest, recipient=recipient[:200],
                                              created_by=actor, expires_at=timezone.now() + timedelta(days=days))
    audit_record(action="evidence.package_link_created", actor=actor, target=f"evidence_package:{package.pk}",
                 incident_reference=package.incident.reference, ip_address=ip_address,
                 details={"link": link.pk, "recipient": link.recipient, "expires_at": link.expires_at.isoformat()})
    return link, token


@transaction.atomic
def evidence_package_link_revoke(*, link, actor, ip_address=None):
    """Stop a link from working at once. Revoking twice changes nothing."""
    link = EvidencePackageLink.objects.select_for_update().select_related("package__incident").get(pk=link.pk)
    if link.revoked_at is not None:
        return link
    link.revoked_at, link.revoked_by = timezone.now(), actor
    link.save(update_fields=["revoked_at", "revoked_by"])
    audit_record(action="evidence.package_link_revoked", actor=actor, target=f"evidence_package:{link.package_id}",
                 incident_reference=link.package.incident.reference, ip_address=ip_address,
                 details={"link": link.pk, "recipient": link.recipient})
    return link


# --- The ZIP, streamed ---------------------------------------------------------------------------

class _Drain(io.RawIOBase):
    """Where zipfile writes: bytes wait here until the generator hands them on. It cannot seek, so
    zipfile writes each entry in one pass (sizes and CRC in a data descriptor after the data)."""

    def __init__(self):
        super().__init__()
        self._pieces = []

    def writable(self):
        return True

    def write(self, data):
        self._pieces.append(bytes(data))
        return len(data)

    def take(self):
        """What was written since the last call, as one piece (none if nothing was)."""
        data = b"".join(self._pieces)
        self._pieces.clear()
        return [data] if data else []


def _entry(name, when):
    info = zipfile.ZipInfo(name, date_time=timezone.localtime(when).timetuple()[:6])
    info.compress_type = zipfile.ZIP_STORED  # video does not compress; stored keeps the bytes as they were
    info.external_attr = 0o644 << 16
    return info


def readme_text(package, submissions):
    from django.template.loader import render_to_string

    return render_to_string("requests_app/evidence_package_readme.txt",
                            {"package": package, "count": len(submissions), "PROGRAM_NAME": settings.PROGRAM_NAME,
                             "CITY_NAME": settings.CITY_NAME})


def package_zip_pieces(package, submissions):
    """The package's ZIP as an iterator of bytes, reading each file from the footage storage in pieces.

    The small documents are made at once, in the caller's thread and language; under ASGI the iterator
    then runs in a thread of its own, which does not share the request's active translation.
    """
    from requests_app.package_pdf import custody_report_pdf

    documents = [("README.txt", readme_text(package, submissions).encode()),
                 (package_verify.MANIFEST, package.manifest.encode()),
                 ("verify.py", VERIFY_SCRIPT.read_bytes()),
                 ("custody_report.pdf", custody_report_pdf(package))]
    return _zip_pieces(package, submissions, documents)


def _zip_pieces(package, submissions, documents):
    storage, sink = footage_storage(), _Drain()
    created = package.created_at
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, data in documents:
            with archive.open(_entry(name, created), mode="w", force_zip64=True) as entry:
                entry.write(data)
            yield from sink.take()
        for submission in submissions:
            pieces = storage.iter_range(evidence_name(submission), 0, submission.size, chunk_size=READ_PIECE)
            try:
                with archive.open(_entry(zip_name(submission), submission.created_at), mode="w",
                                  force_zip64=True) as entry:
                    for piece in pieces:
                        entry.write(piece)
                        yield from sink.take()
            finally:
                pieces.close()
    yield from sink.take()


def package_filename(package):
    return f"evidence-{package.incident.reference}-{str(package.pk)[:8]}.zip"
