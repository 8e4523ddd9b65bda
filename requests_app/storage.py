"""Where footage lives: the "footage" storage of Django's storage API, a private folder or an S3 bucket.

Every upload, piece of evidence and export is read and written through ``footage_storage()``: names are
relative paths such as ``evidence/<id>.mp4``. The embedded default is ``LocalFootageStorage`` under
FOOTAGE_ROOT; ``FOOTAGE_STORAGE_URL=s3://bucket/prefix?endpoint=…`` selects ``S3FootageStorage``
(django-storages' S3 backend). Nothing here is ever served by a public URL: views stream files after
their permission check and audit entry.

Both backends add what the portal needs beyond Django's API, reading large files without holding them
in memory: ``open_reader(name)`` (a seekable binary file, for hashing and for FFmpeg) and
``iter_range(name, start, length)`` (for HTTP Range answers).
"""

import io
import os
import threading

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

__all__ = ["LocalFootageStorage", "S3FootageStorage", "StorageUnavailable", "footage_storage",
           "storage_errors"]

READ_CHUNK = 1024 * 1024
_CLIENT_LOCK = threading.Lock()


class StorageUnavailable(Exception):
    """The footage store did not answer (network, credentials, a full bucket): try again later."""


def footage_storage():
    """The configured footage storage (STORAGES["footage"])."""
    return storages["footage"]


def forget_storage_connections():
    """Drop the storage objects (and their S3 connections) inherited from a parent process.

    Registered to run in every forked child (RequestsAppConfig.ready): a django-q2 worker must not send
    requests over its parent's sockets.
    """
    storages._storages = {}


def storage_errors():
    """Exceptions that mean "the store failed", as opposed to "no such file"."""
    return (OSError, BotoCoreError, ClientError)


class LocalFootageStorage(FileSystemStorage):
    """A private folder (FOOTAGE_ROOT, read at each use so tests may point it elsewhere); folders 0700,
    files 0600."""

    is_object_storage = False

    def __init__(self, **kwargs):
        super().__init__(directory_permissions_mode=0o700, file_permissions_mode=0o600, **kwargs)

    @property
    def base_location(self):
        return os.fspath(settings.FOOTAGE_ROOT)

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    def open_reader(self, name):
        return open(self.path(name), "rb")  # noqa: SIM115  (the caller closes it)

    def iter_range(self, name, start, length, chunk_size=256 * 1024):
        with open(self.path(name), "rb") as handle:
            handle.seek(start)
            remaining = length
            while remaining > 0:
                block = handle.read(min(chunk_size, remaining))
                if not block:
                    return
                remaining -= len(block)
                yield block


class S3FootageStorage(S3Storage):
    """django-storages' S3 backend, private: no ACLs, no public URLs, bounded timeouts.

    Checksums are computed by botocore only where S3 requires them: the portal sends its own SHA-256
    with each part it uploads, and several S3-compatible stores refuse botocore's default trailing
    checksums.
    """

    is_object_storage = True

    def __init__(self, **kwargs):
        kwargs.setdefault("default_acl", None)
        kwargs.setdefault("file_overwrite", True)  # the portal names every object itself
        kwargs.setdefault("querystring_expire", 60)
        addressing = kwargs.pop("addressing_style", None)
        kwargs.setdefault("client_config", Config(
            # Parts carry their own SHA-256, which S3 checks; signing the payload as well would read each
            # part once more (and botocore signs payloads over plain HTTP by default).
            s3={"payload_signing_enabled": False, **({"addressing_style": addressing} if addressing else {})},
            connect_timeout=5, read_timeout=60, retries={"max_attempts": 3, "mode": "standard"},
            request_checksum_calculation="when_required", response_checksum_validation="when_required",
            max_pool_connections=20))
        super().__init__(**kwargs)

    @property
    def client(self):
        """This process's boto3 S3 client, shared by its threads.

        django-storages keeps a boto3 resource per thread, and Django runs each request's synchronous code
        in a thread of that request's own under ASGI, so every request would build a client (tens of
        milliseconds and megabytes of service model each). boto3 clients are thread-safe; one is enough.
        """
        client = self.__dict__.get("_shared_client")
        if client is None or client[0] != os.getpid():
            with _CLIENT_LOCK:
                client = self.__dict__.get("_shared_client")
                if client is None or client[0] != os.getpid():
                    client = (os.getpid(), self._create_session().client(
                        "s3", region_name=self.region_name, use_ssl=self.use_ssl, endpoint_url=self.endpoint_url,
                        config=self.client_config, verify=self.verify))
                    self.__dict__["_shared_client"] = client
        return client[1]

    def size(self, name):
        try:
            return self.client.head_object(Bucket=self.bucket_name, Key=self.key(name))["ContentLength"]
        except ClientError as error:
            _raise_not_found(error, name)
            raise

    def exists(self, name):
        try:
            self.size(name)
        except FileNotFoundError:
            return False
        return True

    def delete(self, name):
        self.client.delete_object(Bucket=self.bucket_name, Key=self.key(name))  # no error if it is gone

    def key(self, name):
        """The object key of a storage name: the configured prefix plus the name."""
        return self._normalize_name(clean_name(name))

    def open_reader(self, name):
        return io.BufferedReader(S3ObjectReader(self.client, self.bucket_name, self.key(name)),
                                 buffer_size=READ_CHUNK)

    def iter_range(self, name, start, length, chunk_size=256 * 1024):
        if length <= 0:
            return
        try:
            response = self.client.get_object(Bucket=self.bucket_name, Key=self.key(name),
                                              Range=f"bytes={start}-{start + length - 1}")
        except ClientError as error:
            _raise_not_found(error, name)
            raise
        body = response["Body"]
        try:
            yield from body.iter_chunks(chunk_size)
        finally:
            body.close()


def _raise_not_found(error, name):
    if error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404 or \
            error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
        raise FileNotFoundError(f"No footage stored as {name}") from None


class S3ObjectReader(io.RawIOBase):
    """A seekable, read-only file over one S3 object.

    Sequential reads share one streaming GET from the current position; a seek that moves elsewhere
    drops it and the next read starts another. Every GET names the object's ETag (If-Match), so a file
    replaced midway is an error rather than a mix of two files.
    """

    def __init__(self, client, bucket, key):
        super().__init__()
        self._client, self._bucket, self._key = client, bucket, key
        try:
            head = client.head_object(Bucket=bucket, Key=key)
        except ClientError as error:
            _raise_not_found(error, key)
            raise
        self.size = head["ContentLength"]
        self._etag = head["ETag"]
        self._position = 0
        self._body = None
        self._body_position = None

    def readable(self):
        return True

    def seekable(self):
        return True

    def tell(self):
        return self._position

    def seek(self, offset, whence=io.SEEK_SET):
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self.size}[whence]
        position = base + offset
        if position < 0:
            raise OSError(f"Cannot seek to {position}, before the start of the file.")
        self._position = position
        return position

    def readinto(self, buffer):
        if self._position >= self.size:
            return 0
        if self._body is None or self._body_position != self._position:
            self._drop_body()
            response = self._client.get_object(Bucket=self._bucket, Key=self._key, IfMatch=self._etag,
                                               Range=f"bytes={self._position}-")
            self._body, self._body_position = response["Body"], self._position
        view = memoryview(buffer).cast("B")
        data = self._body.read(len(view))
        count = len(data)
        view[:count] = data
        self._position += count
        self._body_position += count
        return count

    def _drop_body(self):
        if self._body is not None:
            self._body.close()
            self._body = None

    def close(self):
        self._drop_body()
        super().close()
