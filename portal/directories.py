"""The folders the portal writes to, created at start-up.

A fresh clone has no var/ folder; SQLite cannot create the folder of its database file and
fails with "unable to open database file". Settings call ensure_folder() for each folder the
configuration needs, so any entry point finds them, or stops with a message that names the
folder and the variable to change.
"""

import errno
import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured


def ensure_folder(path, *, variable, purpose, private=False, writable=True):
    """Create the folder `path` (and its parents) unless it exists; with `writable`, also check
    that the portal may write into an existing one. `private` folders are created mode 0700.

    Raises ImproperlyConfigured saying what is wrong and that `variable` moves the folder.
    """
    path = Path(path)
    if path.is_dir():
        if writable and not os.access(path, os.W_OK | os.X_OK):
            raise ImproperlyConfigured(
                f"Cannot write to {purpose} {path}: {_unwritable_reason(path)}. Give the user running the portal "
                f"write access to it, or set {variable} to a folder that user may write to.")
        return
    try:
        path.mkdir(mode=0o700 if private else 0o777, parents=True, exist_ok=True)
    except OSError as error:
        raise ImproperlyConfigured(
            f"Cannot create {purpose} {path}: {_mkdir_failure_reason(path, error)}. "
            f"Set {variable} to a folder the user running the portal may write to.") from None


def _mkdir_failure_reason(path, error):
    blocker = next((folder for folder in (path, *path.parents) if folder.exists() and not folder.is_dir()), None)
    if blocker is not None:
        return f"{blocker} is a file, not a folder (move it away)"
    if error.errno == errno.EROFS:
        return "the file system is read-only"
    if error.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return error.strerror or str(error)


def _unwritable_reason(path):
    if os.statvfs(path).f_flag & os.ST_RDONLY:
        return "the file system is read-only"
    return "permission denied"
