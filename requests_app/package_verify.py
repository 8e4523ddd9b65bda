#!/usr/bin/env python3
"""Check an evidence package from the Community Camera Portal: is every file exactly as it was given?

Usage:
    python3 verify.py                 (inside the extracted package: checks the folder this script is in)
    python3 verify.py PACKAGE.zip     (the package as downloaded, still zipped)
    python3 verify.py FOLDER          (an extracted package somewhere else)

It re-computes the SHA-256 of every file listed in manifest.json and compares it, and the size, with the
manifest. It prints one line per file and a result; it exits with 0 when every file matches and 1 when
any file is missing, altered or not listed. Only Python 3's standard library is needed: no network, no
portal account.

This script is the module requests_app/package_verify.py of the portal, copied unchanged into every
package; the portal's `manage.py verify_package` command runs the same code.
"""

import hashlib
import json
import os
import sys
import zipfile

MANIFEST = "manifest.json"
FILES_FOLDER = "files/"
READ_SIZE = 1024 * 1024


class PackageError(Exception):
    """The package cannot be checked at all (no manifest, not a package)."""


class _ZipPackage:
    def __init__(self, path):
        try:
            self._zip = zipfile.ZipFile(path)
        except (OSError, zipfile.BadZipFile) as error:
            raise PackageError(f"{path} is not a readable ZIP file: {error}") from None
        self._names = {info.filename for info in self._zip.infolist() if not info.is_dir()}

    def names(self):
        return self._names

    def open(self, name):
        return self._zip.open(name) if name in self._names else None

    def close(self):
        self._zip.close()


class _FolderPackage:
    def __init__(self, path):
        self._root = os.path.abspath(path)
        self._names = set()
        for folder, _subfolders, files in os.walk(self._root):
            for filename in files:
                relative = os.path.relpath(os.path.join(folder, filename), self._root)
                self._names.add(relative.replace(os.sep, "/"))

    def names(self):
        return self._names

    def open(self, name):
        return open(os.path.join(self._root, *name.split("/")), "rb") if name in self._names else None  # noqa: SIM115

    def close(self):
        pass


def _open_package(path):
    if os.path.isdir(path):
        return _FolderPackage(path)
    if not os.path.exists(path):
        raise PackageError(f"{path} does not exist.")
    return _ZipPackage(path)


def _digest(handle):
    sha256, size = hashlib.sha256(), 0
    with handle:
        while block := handle.read(READ_SIZE):
            sha256.update(block)
            size += len(block)
    return sha256.hexdigest(), size


def verify_package(path):
    """(manifest, results) for the package at `path` (a ZIP file or a folder).

    The manifest comes back with "manifest_sha256", the SHA-256 of manifest.json as found, which the
    portal shows on the package's page and prints in custody_report.pdf.

    Each result is (status, name, message) with status "ok", "altered", "missing" or "unlisted".
    Raises PackageError when there is no readable manifest.
    """
    package = _open_package(path)
    try:
        manifest_file = package.open(MANIFEST)
        if manifest_file is None:
            raise PackageError(f"{path} has no {MANIFEST}: it is not an evidence package.")
        try:
            with manifest_file:
                raw = manifest_file.read()
            manifest = json.loads(raw.decode("utf-8"))
            manifest_sha256 = hashlib.sha256(raw).hexdigest()
            entries = manifest["files"]
        except (ValueError, KeyError, TypeError) as error:
            raise PackageError(f"{MANIFEST} cannot be read: {error}") from None
        results = [_check(package, entry) for entry in entries]
        listed = {entry.get("name") for entry in entries}
        for name in sorted(package.names()):
            if name.startswith(FILES_FOLDER) and name not in listed:
                results.append(("unlisted", name, "is in the package but not in the manifest"))
        return {**manifest, "manifest_sha256": manifest_sha256}, results
    finally:
        package.close()


def _check(package, entry):
    name = entry.get("name", "?")
    handle = package.open(name)
    if handle is None:
        return "missing", name, "is missing from the package"
    digest, size = _digest(handle)
    if digest != entry.get("sha256") or size != entry.get("size"):
        return ("altered", name, f"is ALTERED: SHA-256 {digest} ({size} bytes), the manifest says "
                f"{entry.get('sha256')} ({entry.get('size')} bytes)")
    return "ok", name, f"matches SHA-256 {digest} ({size} bytes)"


def report_lines(manifest, results):
    """The lines the script prints: one per file, then the result."""
    lines = [f"Evidence package {manifest.get('package_id', '?')} "
             f"(incident {manifest.get('incident', {}).get('reference', '?')})",
             f"manifest.json SHA-256 {manifest.get('manifest_sha256', '?')}"]
    lines += [f"{'OK' if status == 'ok' else 'FAIL'}  {name} {message}" for status, name, message in results]
    failed = [name for status, name, _message in results if status != "ok"]
    if failed:
        lines.append(f"RESULT: FAILED: {len(failed)} of {len(results)} files missing, altered or unlisted: "
                     + ", ".join(failed))
    else:
        lines.append(f"RESULT: OK: all {len(results)} files match the manifest.")
    return lines


def main(argv=None, out=None):
    """Check the package named in argv (default: this script's folder); print the report; return 0 or 1."""
    argv = sys.argv[1:] if argv is None else argv
    out = out or sys.stdout
    path = argv[0] if argv else os.path.dirname(os.path.abspath(__file__))
    try:
        manifest, results = verify_package(path)
    except PackageError as error:
        out.write(f"RESULT: FAILED: {error}\n")
        return 1
    for line in report_lines(manifest, results):
        out.write(f"{line}\n")
    return 0 if results and all(status == "ok" for status, _name, _message in results) else 1


if __name__ == "__main__":
    sys.exit(main())
