"""A small server for the tus 1.0.0 resumable upload protocol (https://tus.io/protocols/resumable-upload).

Core protocol plus the Creation, Termination and Expiration extensions, as a Django view that a feature
subclasses and routes twice::

    path("<prefix>/", MyUploadView.as_view(), name=...)                 # OPTIONS, POST (creation)
    path("<prefix>/<uuid:upload_id>/", MyUploadView.as_view(), name=...)  # OPTIONS, HEAD, PATCH, DELETE

Uploads are rows of ``requests_app.models.Upload``; their bytes go to a store (requests_app/tus_stores.py)
chosen by the footage storage: a private folder, or an S3 multipart upload. Limits come from settings:
``UPLOAD_MAX_FILE_BYTES`` (per file, checked at creation), ``UPLOAD_MAX_CHUNK_BYTES`` (per PATCH: daphne
hands Django a request's whole body at once) and ``UPLOAD_EXPIRY_HOURS`` (an unfinished upload is refused,
then removed by ``delete_expired_uploads``).

How a PATCH stays consistent:

* One writer at a time per upload: the store's writer waits for the upload to be free (a file lock, or a
  lease on the row for object storage, where PATCHes of one upload may reach different hosts) and reads
  the row again.
* The body is copied 64 KiB at a time (at most ``UPLOAD_MAX_CHUNK_BYTES`` in all) and made durable by the
  store, and only then is the new offset saved, in a short transaction that also locks the row. A crash
  mid-write therefore never records bytes that are not stored.
* The file's SHA-256 is computed while the bytes stream in: its running state (requests_app/hashing.py)
  is saved with each offset, so the next PATCH, in whatever process, goes on from it. On the last byte
  ``Upload.sha256`` holds the fingerprint of everything received.
* A body larger than allowed is refused with 413 and nothing appended, also when it came without a
  Content-Length (then it is noticed while copying and dropped).

Error responses are text/plain sentences meant for the person uploading; the upload page shows them.
Django's CSRF protection stays on: browsers send the token in the X-CSRFToken header.
"""

import base64
import binascii
import hashlib
import logging
import re
import unicodedata
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.utils.http import http_date
from django.utils.translation import gettext as _
from django.views import View

from portal.request_info import client_ip
from requests_app.models import Upload
from requests_app.tus_stores import (
    StorageFull,
    StoreBusy,
    StoreFailed,
    UploadGone,
    UploadLost,
    new_hasher,
    upload_store,
)

__all__ = ["TUS_VERSION", "TusError", "TusUploadView", "clean_filename", "delete_expired_uploads",
           "parse_metadata"]

logger = logging.getLogger(__name__)

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = "creation,termination,expiration"
PATCH_CONTENT_TYPE = "application/offset+octet-stream"
MAX_METADATA_CHARS = 8 * 1024
MAX_METADATA_KEYS = 32
FILENAME_MAX_CHARS = Upload._meta.get_field("filename").max_length
_UINT = re.compile(r"[0-9]{1,19}")
_METADATA_KEY = re.compile(r"[!-~]+")  # printable ASCII without space; commas are split off before


class TusError(Exception):
    """A refusal: an HTTP status and a plain-English sentence returned as the text/plain body."""

    def __init__(self, status, message, headers=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})

    def response(self):
        response = _text_response(self.status, self.message)
        for name, value in self.headers.items():
            response[name] = value
        return response


# --- Helpers --------------------------------------------------------------------------------------------

def _text_response(status, message):
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


def _empty_response(status):
    response = HttpResponse(status=status)
    del response["Content-Type"]
    return response


def human_size(count):
    """1073741824 -> "1 GiB"; 1536 -> "1.5 KiB"; 12 -> "12 bytes"."""
    for unit, name in ((1024**4, "TiB"), (1024**3, "GiB"), (1024**2, "MiB"), (1024, "KiB")):
        if count >= unit:
            return f"{count / unit:.1f}".removesuffix(".0") + f" {name}"
    return _("%(count)s bytes") % {"count": count}


def _not_found():
    return TusError(404, _("This upload was not found. It may have been cancelled or removed; please start it again."))


def _store_refusal(error):
    """The answer to a store's refusal (requests_app/tus_stores.py)."""
    if isinstance(error, UploadGone):
        return _not_found()
    if isinstance(error, StoreBusy):
        return TusError(423, _("Another part of this upload is still being saved; please try again in a moment."))
    if isinstance(error, UploadLost):
        return TusError(410, _("The parts of this upload received so far are no longer stored; please start "
                               "it again."))
    if isinstance(error, StorageFull):
        return TusError(507, _("The server is out of storage space; please try again later."))
    return TusError(503, _("The footage store is not answering; please try again in a moment."),
                    headers={"Retry-After": "5"})


def _parse_uint(value, missing_message, invalid_message):
    if value is None:
        raise TusError(400, missing_message)
    value = value.strip()
    if not _UINT.fullmatch(value):
        raise TusError(400, invalid_message)
    return int(value)


def _content_length(request):
    """The declared body length, or None when the body came without one (chunked)."""
    value = request.META.get("CONTENT_LENGTH")
    if value in (None, ""):
        return None
    return _parse_uint(value, "", _("The piece's Content-Length is not a whole number of bytes."))


def _expires_header(upload):
    return http_date(upload.expires_at.timestamp())


def _control_free(text):
    """Text without control, format (e.g. right-to-left override) or separator characters."""
    return "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Zl", "Zp"))


def clean_filename(name):
    """A file name safe to store and show: no folders, no control characters, at most 255 characters.

    "../../Videos/Front door\\x00.mp4" -> "Front door.mp4". Returns "" when nothing usable is left.
    """
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[\\/]", name)[-1]
    name = _control_free(name).strip().lstrip(".").strip()
    if len(name) > FILENAME_MAX_CHARS:
        stem, dot, extension = name.rpartition(".")
        if dot and stem and len(extension) <= 16:
            name = stem[: FILENAME_MAX_CHARS - len(extension) - 1].rstrip() + "." + extension
        else:
            name = name[:FILENAME_MAX_CHARS]
    return name


def parse_metadata(header):
    """Upload-Metadata ("filename ZmFjZS5tcDQ=,private") as a dict of text values.

    Values are base64 (empty or absent allowed), decoded as UTF-8 with control characters removed, which
    also keeps them storable in PostgreSQL's JSON. Raises TusError(400) for anything malformed.
    """
    header = (header or "").strip()
    if not header:
        return {}
    unreadable = _("The file's details (Upload-Metadata) could not be read.")
    if len(header) > MAX_METADATA_CHARS:
        raise TusError(400, _("The file's details (Upload-Metadata) are too long."))
    metadata = {}
    for pair in header.split(","):
        pair = pair.strip()
        if not pair:
            continue
        parts = pair.split(" ")
        key = parts[0]
        if len(parts) > 2 or not _METADATA_KEY.fullmatch(key) or key in metadata:
            raise TusError(400, unreadable)
        try:
            raw = base64.b64decode(parts[1] if len(parts) == 2 else "", validate=True)
        except (binascii.Error, ValueError):
            raise TusError(400, unreadable) from None
        metadata[key] = _control_free(raw.decode("utf-8", errors="replace"))
    if len(metadata) > MAX_METADATA_KEYS:
        raise TusError(400, _("The file's details (Upload-Metadata) are too long."))
    return metadata


def _encode_metadata(metadata):
    return ",".join(f"{key} {base64.b64encode(value.encode()).decode('ascii')}" if value else key
                    for key, value in metadata.items())


# --- The view -------------------------------------------------------------------------------------------

class TusUploadView(View):
    """A tus 1.0.0 endpoint. Subclass, override the hooks, and route it twice (see the module docstring).

    ``get_scope`` is called for every request but OPTIONS; an upload is only ever visible to requests whose
    scope matches the one it was created with (others get 404). URL keyword arguments other than
    ``upload_id`` are passed to ``get_scope`` and ``upload_url``.
    """

    http_method_names = ["options", "head", "post", "patch", "delete"]
    collection_methods = ("OPTIONS", "POST")
    upload_methods = ("OPTIONS", "HEAD", "PATCH", "DELETE")

    # --- Hooks ------------------------------------------------------------------------------------------

    def get_scope(self, request, **kwargs):
        """Authorise the request and return the scope string stored on the upload.

        Raise PermissionDenied (its message is shown) or Http404 to refuse.
        """
        raise PermissionDenied

    def check_creation(self, request, scope, length, metadata):
        """Enforce the caller's own limits before an upload is created; raise TusError(413/403/400, message).

        Runs in the transaction that then creates the row, so it may lock a parent row with
        select_for_update to count existing uploads without a race. ``metadata`` is the parsed
        Upload-Metadata; use clean_filename() on metadata.get("filename") for the stored name.
        """

    def storage_name(self, upload):
        """Where the finished file is kept, as a name in the footage storage; by default "uploads/<id>"."""
        return f"uploads/{upload.id}"

    def upload_url(self, request, upload, **kwargs):
        """The upload's URL for the Location header; by default the creation URL plus "<id>/"."""
        return f"{request.path.rstrip('/')}/{upload.id}/"

    def upload_created(self, request, upload):
        """Called in the creating transaction, after the row and its empty file exist."""

    def upload_completed(self, request, upload):
        """Called once, in the request that wrote the last byte, inside the transaction recording it.

        If it raises, nothing of that last piece is recorded and the client may send it again. Keep it
        short: queue heavy work (hashing, moving the file) with transaction.on_commit.
        """

    def upload_terminated(self, request, upload):
        """Called when the client cancels an unfinished upload, just before its row and file are removed."""

    # --- Dispatch ---------------------------------------------------------------------------------------

    def dispatch(self, request, *args, **kwargs):
        upload_id = kwargs.pop("upload_id", None)
        method = request.method.upper()
        override = request.headers.get("X-HTTP-Method-Override", "").strip().upper()
        if method == "POST" and override in ("PATCH", "DELETE"):
            method = override  # for clients that cannot send PATCH or DELETE; CSRF was checked as a POST
        allowed = self.upload_methods if upload_id is not None else self.collection_methods
        try:
            if method not in allowed:
                raise TusError(405, _("This address does not accept %(method)s requests.") % {"method": method},
                               headers={"Allow": ", ".join(allowed)})
            if method == "OPTIONS":
                response = self.tus_options(request)
            else:
                if request.headers.get("Tus-Resumable") != TUS_VERSION:
                    raise TusError(412, _("The upload tool is out of date: this server speaks tus 1.0.0. "
                                          "Reload the page and try again."), headers={"Tus-Version": TUS_VERSION})
                scope = self.get_scope(request, **kwargs)
                if method == "POST":
                    response = self.tus_create(request, scope, kwargs)
                else:
                    handler = {"HEAD": self.tus_head, "PATCH": self.tus_patch, "DELETE": self.tus_delete}[method]
                    response = handler(request, scope, upload_id)
        except TusError as error:
            response = error.response()
        except (StoreBusy, UploadGone, UploadLost, StorageFull, StoreFailed) as error:
            response = _store_refusal(error).response()
        except PermissionDenied as error:
            response = _text_response(403, str(error) or _("You are not allowed to upload here."))
        except Http404:
            response = _not_found().response()
        response["Tus-Resumable"] = TUS_VERSION
        return response

    def tus_options(self, request):
        response = _empty_response(204)
        response["Tus-Version"] = TUS_VERSION
        response["Tus-Extension"] = TUS_EXTENSIONS
        response["Tus-Max-Size"] = str(settings.UPLOAD_MAX_FILE_BYTES)
        return response

    # --- Creation ---------------------------------------------------------------------------------------

    def tus_create(self, request, scope, kwargs):
        if "Upload-Defer-Length" in request.headers:
            raise TusError(400, _("The file's size must be known before the upload starts."))
        length = _parse_uint(request.headers.get("Upload-Length"),
                             _("The upload did not say how large the file is."),
                             _("The file size sent with the upload is not a whole number of bytes."))
        if length > settings.UPLOAD_MAX_FILE_BYTES:
            raise TusError(413, _("This file is larger than the %(limit)s limit.")
                           % {"limit": human_size(settings.UPLOAD_MAX_FILE_BYTES)})
        metadata = parse_metadata(request.headers.get("Upload-Metadata"))
        now = timezone.now()
        upload = Upload(
            scope=scope,
            filename=clean_filename(metadata.get("filename") or metadata.get("name") or ""),
            length=length,
            metadata=metadata,
            ip_address=client_ip(request),
            expires_at=now + timedelta(hours=settings.UPLOAD_EXPIRY_HOURS),
            completed_at=now if length == 0 else None,
        )
        upload.storage_name = self.storage_name(upload)
        if length == 0:
            upload.sha256 = hashlib.sha256(b"").hexdigest()
        store = upload_store()
        try:
            with transaction.atomic():
                self.check_creation(request, scope, length, metadata)
                upload.save(force_insert=True)
                store.created(upload)
                self.upload_created(request, upload)
                if length == 0:
                    self.upload_completed(request, upload)
        except Exception:
            store.discard(upload)
            raise
        response = _empty_response(201)
        response["Location"] = self.upload_url(request, upload, **kwargs)
        if upload.completed_at is None:
            response["Upload-Expires"] = _expires_header(upload)
        return response

    # --- Core: HEAD, PATCH ------------------------------------------------------------------------------

    def _find(self, upload_id, scope):
        upload = Upload.objects.filter(pk=upload_id, scope=scope).first()
        if upload is None:
            raise _not_found()
        return upload

    def _refuse_expired(self, upload):
        if upload.completed_at is None and upload.expires_at <= timezone.now():
            raise TusError(410, _("This upload expired before it was finished; please start it again."))

    def _offset_response(self, status, upload):
        response = _empty_response(status)
        response["Upload-Offset"] = str(upload.offset)
        response["Cache-Control"] = "no-store"
        if upload.completed_at is None:
            response["Upload-Expires"] = _expires_header(upload)
        return response

    def tus_head(self, request, scope, upload_id):
        upload = self._find(upload_id, scope)
        self._refuse_expired(upload)
        store = upload_store()
        if store.needs_repair(upload):
            with store.writer(upload) as writer:
                upload = writer.upload
                self._refuse_expired(upload)
                if upload.completed_at is None:
                    writer.repair()
        response = self._offset_response(200, upload)
        response["Upload-Length"] = str(upload.length)
        if upload.metadata:
            response["Upload-Metadata"] = _encode_metadata(upload.metadata)
        return response

    def tus_patch(self, request, scope, upload_id):
        if request.content_type != PATCH_CONTENT_TYPE:
            raise TusError(415, _("Upload pieces must be sent as %(type)s.") % {"type": PATCH_CONTENT_TYPE})
        sent_offset = _parse_uint(request.headers.get("Upload-Offset"),
                                  _("The upload did not say where this piece starts (Upload-Offset)."),
                                  _("The piece's Upload-Offset is not a whole number of bytes."))
        declared = _content_length(request)
        cap = settings.UPLOAD_MAX_CHUNK_BYTES
        if declared is not None and declared > cap:
            raise self._piece_too_large(cap)
        upload = self._find(upload_id, scope)
        if upload.completed_at is not None:
            return self._patch_completed(request, upload, sent_offset, declared)
        self._refuse_expired(upload)
        with upload_store().writer(upload) as writer:
            upload = writer.upload
            if upload.completed_at is not None:
                return self._patch_completed(request, upload, sent_offset, declared)
            self._refuse_expired(upload)
            writer.repair()
            start = upload.offset
            if sent_offset != start:
                raise TusError(409, _("The upload is at byte %(offset)s, not %(sent)s; resume from there.")
                               % {"offset": start, "sent": sent_offset})
            room = upload.length - start
            if declared is not None and declared > room:
                raise self._past_the_end(upload)
            limit = min(cap, room)
            hasher = new_hasher(upload)
            received = writer.receive(request, limit, hasher)
            if received > limit:  # only possible without a Content-Length
                raise self._piece_too_large(cap) if limit == cap else self._past_the_end(upload)
            if received:
                try:
                    upload = self._record(request, writer, received, hasher)
                except Exception:
                    writer.undo()
                    raise
        return self._offset_response(204, upload)

    def _piece_too_large(self, cap):
        return TusError(413, _("Each piece of an upload may be at most %(limit)s.") % {"limit": human_size(cap)})

    def _past_the_end(self, upload):
        return TusError(413, _("This piece goes past the end of the file (%(length)s bytes); nothing was saved.")
                        % {"length": upload.length})

    def _patch_completed(self, request, upload, sent_offset, declared):
        has_body = bool(declared) if declared is not None else bool(request.read(1))
        if has_body:
            raise TusError(409, _("This upload is already complete."))
        if sent_offset != upload.offset:
            raise TusError(409, _("The upload is at byte %(offset)s, not %(sent)s; resume from there.")
                           % {"offset": upload.offset, "sent": sent_offset})
        return self._offset_response(204, upload)

    def _record(self, request, writer, received, hasher):
        """Save the new offset (the bytes are stored already); on the last byte, mark complete and call the hook."""
        start = writer.upload.offset
        with transaction.atomic():
            row = Upload.objects.select_for_update().filter(pk=writer.upload.pk).first()
            if row is None:
                raise _not_found()  # removed (expired) meanwhile
            if not writer.holds(row):
                raise StoreBusy  # our lease ran out and another request took the upload over
            if row.offset != start:  # cannot happen while writers hold the upload
                raise TusError(409, _("The upload is at byte %(offset)s, not %(sent)s; resume from there.")
                               % {"offset": row.offset, "sent": start})
            row.offset = start + received
            row.sha256_state = hasher.state() if hasher else None
            for field, value in writer.changes.items():
                setattr(row, field, value)
            fields = ["offset", "completed_at", "sha256_state", "sha256", *writer.changes]
            if row.offset == row.length:
                row.completed_at = timezone.now()
                row.sha256 = hasher.hexdigest() if hasher else ""
            row.save(update_fields=fields)
            if row.completed_at is not None:
                self.upload_completed(request, row)
        return row

    # --- Termination ------------------------------------------------------------------------------------

    def tus_delete(self, request, scope, upload_id):
        upload = self._find(upload_id, scope)
        finished = _("This upload is already complete and can no longer be cancelled here.")
        if upload.completed_at is not None:
            raise TusError(409, finished)
        store = upload_store()
        with store.writer(upload) as writer:
            if writer.upload.completed_at is not None:
                raise TusError(409, finished)
            with transaction.atomic():
                row = Upload.objects.select_for_update().filter(pk=upload.pk).first()
                if row is None:
                    raise _not_found()
                self.upload_terminated(request, row)
                Upload.objects.filter(pk=row.pk).delete()
            store.discard(row)
        return _empty_response(204)


# --- Expiration -----------------------------------------------------------------------------------------

def delete_expired_uploads(now=None):
    """Remove unfinished uploads past their expiry time, rows and stored bytes; returns how many were removed.

    Also sweeps what a crash can leave behind without a row (files on disk, multipart uploads and staged
    pieces in a bucket) once untouched for UPLOAD_EXPIRY_HOURS; they count too. Finished uploads are never
    touched. Safe to run repeatedly and alongside uploads; schedule it hourly.
    """
    now = now or timezone.now()
    store = upload_store()
    removed = 0
    expired = Upload.objects.filter(completed_at__isnull=True, expires_at__lte=now)
    for pk in list(expired.values_list("pk", flat=True)):
        with transaction.atomic():
            upload = expired.select_for_update().filter(pk=pk).first()
            if upload is None:
                continue  # finished or removed meanwhile
            Upload.objects.filter(pk=pk).delete()  # a queryset delete leaves `upload` its id for discard()
        store.discard(upload)
        removed += 1
    return removed + store.sweep(now)
