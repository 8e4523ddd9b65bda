"""Reading and placing footage in whichever storage a test runs on (a folder, or the S3 test server)."""

import hashlib
import shutil

from requests_app.storage import footage_storage
from requests_app.tus_stores import DiskUploadStore


def stored_bytes(name):
    """The whole stored file (test files are small)."""
    with footage_storage().open_reader(name) as reader:
        return reader.read()


def is_stored(name):
    return footage_storage().exists(name)


def stored_sha256(name):
    return hashlib.sha256(stored_bytes(name)).hexdigest()


def place_finished_upload(upload, source):
    """Put a file where a finished tus upload leaves its bytes: on disk the upload's .part file, in a bucket
    the object at its storage name."""
    storage = footage_storage()
    if storage.is_object_storage:
        storage.client.upload_file(str(source), storage.bucket_name, storage.key(upload.storage_name))
    else:
        path = DiskUploadStore(storage).part_path(upload)
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, path)


def replace_stored(name, data):
    """Overwrite a stored file behind the portal's back (a disk fault, someone with bucket access)."""
    storage = footage_storage()
    if storage.is_object_storage:
        storage.client.put_object(Bucket=storage.bucket_name, Key=storage.key(name), Body=data)
    else:
        with open(storage.path(name), "wb") as file:
            file.write(data)
