"""Where a tus upload keeps its bytes while they arrive: a private folder, or an S3 multipart upload.

The tus view (requests_app/tus.py) speaks the protocol; a store keeps the bytes, chosen by the footage
storage (requests_app/storage.py). Both keep the same promises:

* One writer at a time per upload: ``store.writer(upload)`` waits up to LOCK_WAIT_SECONDS for the
  upload to be free, then yields a writer holding it, with the row read again.
* A piece is recorded (its new offset saved) only once its bytes are safe: fsynced to disk, or
  accepted by S3 with the part's SHA-256 checked by the store. A crash before the record loses
  nothing: the client sends the piece again from the recorded offset.
* Nothing of a piece is held in memory beyond 64 KiB at a time.

``DiskUploadStore`` writes ``uploads/<id>.part`` under FOOTAGE_ROOT, serialised by an exclusive
``flock`` (per open file, so it separates threads and processes on one host; NFSv4 maps it to its own
locks). ``S3UploadStore`` sends each piece as a part of one multipart upload aimed at the finished
file's name, so the finished file appears only once complete and needs no copy. S3 refuses parts
under 5 MiB except the last, so a smaller piece that is not the last is staged as the object
``uploads/<id>.staged`` and sent together with the next one. PATCHes of one upload may reach
different processes on different hosts, so its writer holds a lease on the upload's row instead of a
file lock.
"""

import base64
import errno
import fcntl
import hashlib
import logging
import math
import os
import secrets
import tempfile
import time
import uuid
from contextlib import contextmanager, suppress
from datetime import timedelta
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.db.models import Q
from django.http import UnreadablePostError
from django.utils import timezone

from requests_app.hashing import ResumableSHA256
from requests_app.models import Upload
from requests_app.storage import footage_storage

__all__ = ["DiskUploadStore", "S3UploadStore", "StorageFull", "StoreBusy", "StoreFailed", "UploadGone",
           "UploadLost", "upload_store"]

logger = logging.getLogger(__name__)

READ_SIZE = 64 * 1024
LOCK_WAIT_SECONDS = 30
# Longer than one part can take to reach S3 (botocore: 60 s read timeout, 3 attempts at most).
S3_LEASE = timedelta(minutes=5)
S3_MIN_PART_BYTES = 5 * 1024**2
S3_MAX_PARTS = 10_000


class StoreBusy(Exception):
    """Another request is still writing this upload."""


class UploadGone(Exception):
    """The upload's row was removed (cancelled, expired) while this request waited for it."""


class UploadLost(Exception):
    """The bytes stored so far are gone (removed from the bucket): the upload cannot go on."""


class StorageFull(Exception):
    """The disk or bucket refused the bytes for lack of space."""


class StoreFailed(Exception):
    """The store failed or did not answer; nothing of this piece was recorded, try again later."""


def upload_store():
    """The store for the configured footage storage."""
    storage = footage_storage()
    return S3UploadStore(storage) if storage.is_object_storage else DiskUploadStore(storage)


def new_hasher(upload):
    """The running SHA-256 of what the upload has received, or None if it is unknown (a row from before
    fingerprints were kept, on a store that cannot re-read its bytes)."""
    if upload.sha256_state:
        return ResumableSHA256(upload.sha256_state)
    return ResumableSHA256() if upload.offset == 0 else None


def copy_body(request, file, limit, hashers):
    """Copy the request body into ``file`` (at its position) 64 KiB at a time, feeding ``hashers``.

    Reads at most limit + 1 bytes and returns how many it read: limit + 1 means the body is longer than
    allowed, and nothing past ``limit`` was written or hashed. A body cut short (possible under WSGI;
    daphne only calls Django once the body is complete) keeps what arrived.
    """
    received = 0
    while received <= limit:
        try:
            chunk = request.read(min(READ_SIZE, limit + 1 - received))
        except UnreadablePostError:
            break
        if not chunk:
            break
        received += len(chunk)
        if received > limit:
            break
        file.write(chunk)
        for hasher in hashers:
            hasher.update(chunk)
    file.flush()
    return received


def _out_of_space(error):
    return isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT)


# --- A private folder -------------------------------------------------------------------------------

class DiskUploadStore:
    """FOOTAGE_ROOT/uploads/<id>.part (mode 0600), one flock-holding writer at a time, fsync before recording."""

    def __init__(self, storage):
        self.storage = storage

    def part_path(self, upload):
        return Path(self.storage.path(f"uploads/{upload.id}.part"))

    def created(self, upload):
        """In the creating transaction: an empty private file."""
        path = self.part_path(upload)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))

    def discard(self, upload):
        """Remove an unfinished (or never created) upload's bytes."""
        self.part_path(upload).unlink(missing_ok=True)

    def needs_repair(self, upload):
        try:
            size = self.part_path(upload).stat().st_size
        except FileNotFoundError:
            size = None
        return upload.completed_at is None and size != upload.offset

    @contextmanager
    def writer(self, upload):
        path = self.part_path(upload)
        created = False
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:  # lost from disk: created again (empty) so the upload can go on
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
                created = True
            except FileExistsError:
                fd = os.open(path, os.O_RDWR)
        fresh = None
        try:
            _wait_for_flock(fd)
            # Another request may have written, finished or deleted the upload while this one waited.
            fresh = Upload.objects.filter(pk=upload.pk, scope=upload.scope).first()
            if fresh is None:
                raise UploadGone
            yield _DiskWriter(fresh, fd)
        finally:
            if created and (fresh is None or fresh.completed_at is not None):
                path.unlink(missing_ok=True)  # made by us for an upload that is gone or whose file was moved
            os.close(fd)  # releases the lock, after any transaction inside has committed

    def finalize(self, upload):
        """Move a finished upload's file to its storage name (atomic on one file system); returns the name.

        Safe to call again: a file already moved stays where it is.
        """
        source, target = self.part_path(upload), Path(self.storage.path(upload.storage_name))
        if source.exists():
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.replace(source, target)
        return upload.storage_name

    def sweep(self, now):
        """Stray ``<uuid>.part`` files without a row, untouched for UPLOAD_EXPIRY_HOURS (left by a crash
        between deleting a row and its file); returns how many were removed."""
        folder = Path(self.storage.path("uploads"))
        cutoff = (now - timedelta(hours=settings.UPLOAD_EXPIRY_HOURS)).timestamp()
        removed = 0
        for path in (folder.glob("*.part") if folder.is_dir() else ()):
            try:
                upload_id = uuid.UUID(path.stem)
                if path.stat().st_mtime >= cutoff or Upload.objects.filter(pk=upload_id).exists():
                    continue
                path.unlink()
            except (ValueError, FileNotFoundError):
                continue
            logger.info("Removed stray upload file %s", path.name)
            removed += 1
        return removed


def _wait_for_flock(fd):
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise StoreBusy from None
            time.sleep(0.02)


def _truncate(fd, size):
    os.ftruncate(fd, size)
    os.fsync(fd)


class _DiskWriter:
    def __init__(self, upload, fd):
        self.upload, self.fd = upload, fd
        self.changes = {}

    def holds(self, row):
        return True  # the flock is held until the writer closes

    def repair(self):
        """Bring the file back in line with the recorded offset, and the running SHA-256 with the file."""
        upload, fd = self.upload, self.fd
        size = os.fstat(fd).st_size
        if size > upload.offset:
            # Bytes written by a request that died before recording them: the client sends them again.
            _truncate(fd, upload.offset)
        elif size < upload.offset:
            logger.warning("Upload %s: file has %d bytes but %d were recorded; resuming from %d.",
                           upload.pk, size, upload.offset, size)
            upload.offset, upload.sha256_state = size, None
            Upload.objects.filter(pk=upload.pk).update(offset=size, sha256_state=None)
        if upload.sha256_state is None and upload.offset:
            upload.sha256_state = self._hash_prefix(upload.offset)
            Upload.objects.filter(pk=upload.pk).update(sha256_state=upload.sha256_state)

    def _hash_prefix(self, length):
        hasher = ResumableSHA256()
        with open(self.fd, "rb", closefd=False) as file:
            file.seek(0)
            remaining = length
            while remaining:
                chunk = file.read(min(1024 * 1024, remaining))
                if not chunk:
                    break
                hasher.update(chunk)
                remaining -= len(chunk)
        return hasher.state()

    def receive(self, request, limit, hasher):
        start = self.upload.offset
        try:
            with open(self.fd, "r+b", closefd=False) as file:
                file.seek(start)
                received = copy_body(request, file, limit, [hasher] if hasher else [])
            if received > limit:
                _truncate(self.fd, start)
            else:
                os.fsync(self.fd)
        except OSError as error:
            _truncate(self.fd, start)
            if _out_of_space(error):
                raise StorageFull from error
            raise
        return received

    def undo(self):
        """The piece could not be recorded: cut the file back to the recorded offset."""
        _truncate(self.fd, self.upload.offset)


# --- S3 ------------------------------------------------------------------------------------------

def _error_code(error):
    return error.response.get("Error", {}).get("Code", "") if isinstance(error, ClientError) else ""


class S3UploadStore:
    """One S3 multipart upload per tus upload, aimed at ``upload.storage_name``; a lease on the row per writer."""

    def __init__(self, storage):
        self.storage = storage

    @property
    def client(self):
        return self.storage.client

    @property
    def bucket(self):
        return self.storage.bucket_name

    def key(self, name):
        return self.storage.key(name)

    def staged_name(self, upload):
        return f"uploads/{upload.id}.staged"

    def part_bytes(self, upload):
        """Parts are at least 5 MiB (S3's minimum but for the last), and large enough to stay within 10,000."""
        return max(S3_MIN_PART_BYTES, math.ceil(upload.length / (S3_MAX_PARTS - 1)))

    def created(self, upload):
        """In the creating transaction: an empty file is finished at once; others start at their first piece."""
        if upload.length == 0:
            self._call(self.client.put_object, Bucket=self.bucket, Key=self.key(upload.storage_name), Body=b"")

    def discard(self, upload):
        """Abort the multipart upload and remove the staged piece; leftovers are swept later."""
        try:
            if upload.storage_upload_id:
                with suppress(ClientError):  # already aborted or completed
                    self.client.abort_multipart_upload(Bucket=self.bucket, Key=self.key(upload.storage_name),
                                                       UploadId=upload.storage_upload_id)
            self.client.delete_object(Bucket=self.bucket, Key=self.key(self.staged_name(upload)))
        except (BotoCoreError, ClientError) as error:
            logger.warning("Upload %s: could not remove its parts from the bucket yet (%s); the hourly sweep "
                           "will.", upload.pk, error)

    def needs_repair(self, upload):
        return False  # the row is the record: S3 keeps only what the row says

    @contextmanager
    def writer(self, upload):
        token = secrets.token_hex(16)
        mine = Upload.objects.filter(pk=upload.pk, scope=upload.scope)
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while True:
            now = timezone.now()
            free = Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lte=now)
            if mine.filter(free).update(lease_token=token, lease_expires_at=now + S3_LEASE):
                break
            if not mine.exists():
                raise UploadGone
            if time.monotonic() > deadline:
                raise StoreBusy
            time.sleep(0.05)
        try:
            fresh = mine.first()
            if fresh is None:
                raise UploadGone
            yield _S3Writer(self, fresh, token)
        finally:
            Upload.objects.filter(pk=upload.pk, lease_token=token).update(lease_token="", lease_expires_at=None)

    def finalize(self, upload):
        return upload.storage_name  # the multipart upload was completed at that name

    def sweep(self, now):
        """Abort multipart uploads and remove staged pieces that no row owns, older than UPLOAD_EXPIRY_HOURS."""
        cutoff = now - timedelta(hours=settings.UPLOAD_EXPIRY_HOURS)
        removed = 0
        prefix = self.key("")  # the configured prefix with its trailing slash, or "" for the whole bucket
        pages = self.client.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket, Prefix=prefix)
        for page in pages:
            for multipart in page.get("Uploads", ()):
                if multipart["Initiated"] >= cutoff or \
                        Upload.objects.filter(storage_upload_id=multipart["UploadId"]).exists():
                    continue
                with suppress(ClientError):
                    self.client.abort_multipart_upload(Bucket=self.bucket, Key=multipart["Key"],
                                                       UploadId=multipart["UploadId"])
                    logger.info("Aborted stray multipart upload of %s", multipart["Key"])
                    removed += 1
        staged_prefix = self.key("uploads") + "/"
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=staged_prefix)
        for page in pages:
            for entry in page.get("Contents", ()):
                stem = entry["Key"][len(staged_prefix):].removesuffix(".staged")
                try:
                    upload_id = uuid.UUID(stem)
                except ValueError:
                    continue
                if entry["LastModified"] >= cutoff or Upload.objects.filter(pk=upload_id).exists():
                    continue
                self.client.delete_object(Bucket=self.bucket, Key=entry["Key"])
                logger.info("Removed stray staged piece %s", entry["Key"])
                removed += 1
        return removed

    def _call(self, function, **kwargs):
        try:
            return function(**kwargs)
        except (BotoCoreError, ClientError) as error:
            raise _failure(error, function.__name__) from error


def _failure(error, operation):
    """StorageFull or StoreFailed for a botocore error, logged: what the tus view answers 507 or 503 to."""
    if _error_code(error) in ("EntityTooLarge", "QuotaExceeded", "XMinioStorageFull"):
        return StorageFull()
    logger.error("S3 %s failed: %s", operation, error)
    return StoreFailed()


class _S3Writer:
    def __init__(self, store, upload, token):
        self.store, self.upload, self.token = store, upload, token
        self.changes = {}

    def holds(self, row):
        """The lease is still ours (it could have run out, and been taken, while S3 was slow)."""
        return row.lease_token == self.token

    def repair(self):
        pass

    def undo(self):
        pass  # parts and the staged piece beyond the recorded state are overwritten by the next attempt

    def receive(self, request, limit, hasher):
        store, upload = self.store, self.upload
        folder = settings.FILE_UPLOAD_TEMP_DIR
        try:
            with tempfile.TemporaryFile(dir=folder) as piece:
                part_hash = hashlib.sha256()
                if upload.staged_bytes:
                    self._read_staged(piece, part_hash)
                received = copy_body(request, piece, limit, [part_hash, *([hasher] if hasher else [])])
                if received > limit or received == 0:
                    return received
                size = upload.staged_bytes + received
                last = upload.offset + received == upload.length
                piece.seek(0)
                if last or size >= store.part_bytes(upload):
                    self._send_part(piece, size, part_hash, last=last)
                else:
                    store._call(store.client.put_object, Bucket=store.bucket,
                                Key=store.key(store.staged_name(upload)), Body=piece, ContentLength=size)
                    self.changes["staged_bytes"] = size
        except OSError as error:  # the local temporary file
            if _out_of_space(error):
                raise StorageFull from error
            raise
        return received

    def _read_staged(self, piece, part_hash):
        store, upload = self.store, self.upload
        copied = 0
        try:
            response = store.client.get_object(Bucket=store.bucket, Key=store.key(store.staged_name(upload)),
                                               Range=f"bytes=0-{upload.staged_bytes - 1}")
            for chunk in response["Body"].iter_chunks(READ_SIZE):
                piece.write(chunk)
                part_hash.update(chunk)
                copied += len(chunk)
        except ClientError as error:
            if _error_code(error) in ("NoSuchKey", "InvalidRange", "404"):
                raise UploadLost from error
            raise _failure(error, "get_object") from error
        except BotoCoreError as error:
            raise _failure(error, "get_object") from error
        if copied != upload.staged_bytes:
            raise UploadLost

    def _send_part(self, piece, size, part_hash, *, last):
        store, upload = self.store, self.upload
        key = store.key(upload.storage_name)
        if not upload.storage_upload_id:
            created = store._call(store.client.create_multipart_upload, Bucket=store.bucket, Key=key,
                                  ChecksumAlgorithm="SHA256")
            upload.storage_upload_id = created["UploadId"]
            # Saved at once, so that a crash before the piece is recorded leaves no multipart upload unknown.
            Upload.objects.filter(pk=upload.pk).update(storage_upload_id=upload.storage_upload_id)
        number = upload.parts[-1][0] + 1 if upload.parts else 1
        checksum = base64.b64encode(part_hash.digest()).decode("ascii")
        try:
            answer = store.client.upload_part(Bucket=store.bucket, Key=key, PartNumber=number, Body=piece,
                                              UploadId=upload.storage_upload_id, ContentLength=size,
                                              ChecksumSHA256=checksum)
        except ClientError as error:
            if _error_code(error) == "NoSuchUpload":
                if last and self._already_finished():
                    self.changes.update(staged_bytes=0)
                    return
                raise UploadLost from error
            raise _failure(error, "upload_part") from error
        except BotoCoreError as error:
            raise _failure(error, "upload_part") from error
        parts = [*upload.parts, [number, answer["ETag"], size, checksum]]
        self.changes.update(parts=parts, staged_bytes=0)
        if last:
            store._call(store.client.complete_multipart_upload, Bucket=store.bucket, Key=key,
                        UploadId=upload.storage_upload_id, MultipartUpload={"Parts": [
                            {"PartNumber": part_number, "ETag": etag, "ChecksumSHA256": part_checksum}
                            for part_number, etag, _size, part_checksum in parts]})
            with suppress(BotoCoreError, ClientError):  # a leftover is swept later
                store.client.delete_object(Bucket=store.bucket, Key=store.key(store.staged_name(upload)))

    def _already_finished(self):
        """The multipart upload was completed by an earlier attempt whose record failed."""
        store, upload = self.store, self.upload
        try:
            head = store.client.head_object(Bucket=store.bucket, Key=store.key(upload.storage_name))
        except (BotoCoreError, ClientError):
            return False
        return head["ContentLength"] == upload.length
