"""Benchmark of a 1 GiB tus upload through daphne: throughput, the server's memory, and the bytes on disk.

    .venv/bin/python bench/upload.py
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench .venv/bin/python bench/upload.py

It never touches the developer's own database or footage: by default it runs on a new SQLite file in a
temporary directory, which also holds FOOTAGE_ROOT and the file uploaded; with BENCH_DATABASE_URL it creates
that PostgreSQL database (which must not exist yet) and drops it at the end. See bench/README.md.
"""

import hashlib
import math
import os
import shutil
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchdb import run_on_throwaway_database, throwaway_environment  # noqa: E402
from benchproc import SAMPLE_INTERVAL_S, RssSampler, free_port, proc_status_kb, start_daphne, stop_process  # noqa: E402

FILE_BYTES = 1024**3
WRITE_BLOCK = 8 * 1024**2
CHUNK_MARGIN = 64 * 1024  # each PATCH stays this far under the server's UPLOAD_MAX_CHUNK_BYTES
TARGET_PEAK_MB = 200
MB = 1_000_000


# --- Database set-up (before Django is imported) ---------------------------------------------

def configure_environment(temp_dir):
    """Point Django (here and in daphne, which inherits this environment) at throw-away storage.

    The finished upload's processing is queued in django-q's ORM broker; no cluster runs it.
    Returns the PostgreSQL URL in use, or None.
    """
    return throwaway_environment(temp_dir, extra={"FOOTAGE_ROOT": str(Path(temp_dir) / "footage"), "DEBUG": "1"},
                                 unset=("TASKS_SYNC", "TASKS_ON_REDIS", "EMAIL_URL"))

# --- Files -----------------------------------------------------------------------------------

def write_random_file(path, size):
    """Random bytes (nothing for a disk or a proxy to compress or deduplicate), fsynced."""
    with open(path, "wb") as file:
        written = 0
        while written < size:
            block = os.urandom(min(WRITE_BLOCK, size - written))
            file.write(block)
            written += len(block)
        file.flush()
        os.fsync(file.fileno())


def copy_with_fsync(source, target):
    shutil.copyfile(source, target)
    fd = os.open(target, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sha256_of(path):
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


# --- The server and its memory -----------------------------------------------------------------

def mb(kib):
    return kib * 1024 / MB


# --- Data ------------------------------------------------------------------------------------

def create_approved_request():
    """An owner, an incident and a footage request the owner approved, straight through the ORM."""
    from datetime import timedelta

    from allauth.account.models import EmailAddress
    from django.utils import timezone

    from incidents.models import Incident
    from portal.models import User
    from requests_app.models import AreaRequest, FootageRequest

    now = timezone.now()
    owner = User.objects.create_user(email="bench-owner@example.org", full_name="Bench Owner")
    EmailAddress.objects.create(user=owner, email=owner.email, verified=True, primary=True)
    operator = User.objects.create_user(email="operator@police.example.org", full_name="Bench Operator",
                                        account_type=User.AccountType.STAFF, is_staff=True, badge_number="4242")
    incident = Incident.objects.create(
        reference="BENCH-000001", incident_type=Incident.Type.BURGLARY, case_number="CASE-BENCH-1",
        latitude=40.7128, longitude=-74.0060, address="City Hall", window_start=now - timedelta(hours=3),
        window_end=now - timedelta(hours=1), created_by=operator)
    area_request = AreaRequest.objects.create(
        incident=incident, latitude=incident.latitude, longitude=incident.longitude, radius_m=100,
        window_start=incident.window_start, window_end=incident.window_end, case_number=incident.case_number,
        sender=operator, status=AreaRequest.Status.SENT)
    return FootageRequest.objects.create(
        area_request=area_request, owner=owner, camera_names=["Porch"], status=FootageRequest.Status.APPROVED,
        email_state=FootageRequest.EmailState.SENT, answered_at=now, expires_at=now + timedelta(days=7))


def granted_session(footage_request):
    """A saved session holding a link grant for the request, as the e-mailed link would leave; its key."""
    from importlib import import_module

    from django.conf import settings

    from requests_app.access import GRANTS_KEY

    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[GRANTS_KEY] = {str(footage_request.pk): time.time() + 3600}
    session.save()
    return session.session_key


# --- The run ---------------------------------------------------------------------------------

def run(temp_dir):
    import requests
    from django.conf import settings
    from django.db import connection, connections
    from django_q.models import OrmQ
    from tusclient import client as tus_client

    from requests_app.models import FootageSubmission, Upload
    from requests_app.submissions import evidence_path

    with connection.cursor() as cursor:
        cursor.execute("SELECT sqlite_version()" if connection.vendor == "sqlite" else "SHOW server_version")
        version = cursor.fetchone()[0]
    print(f"database: {connection.vendor} {version} ({connection.settings_dict['NAME']})")

    source = Path(temp_dir) / "source.bin"
    write_s, _ = timed(lambda: write_random_file(source, FILE_BYTES))
    print(f"file: {FILE_BYTES:,} bytes (1 GiB) of random bytes, written and fsynced in {write_s:.1f} s")

    copy = Path(temp_dir) / "copy.bin"
    copy_s, _ = timed(lambda: copy_with_fsync(source, copy))
    copy.unlink()
    copy_rate = FILE_BYTES / MB / copy_s
    print(f"file copy, shutil.copyfile + fsync on the same file system (baseline): {copy_s:.2f} s, "
          f"{copy_rate:,.0f} MB/s")

    footage_request = create_approved_request()
    session_key = granted_session(footage_request)
    connections.close_all()  # daphne has the database to itself while it serves

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = Path(temp_dir) / "daphne.log"
    daphne = sampler = None
    with open(log_path, "wb") as log:
        try:
            daphne = start_daphne(port, log)
            answer_url = f"{base}/requests/{footage_request.pk}/"
            answer = requests.get(answer_url, cookies={"sessionid": session_key}, timeout=60)
            csrf = answer.cookies.get("csrftoken")
            if answer.status_code != 200 or not csrf:
                raise RuntimeError(f"the answer page gave {answer.status_code} and no CSRF cookie")
            chunk = settings.UPLOAD_MAX_CHUNK_BYTES - CHUNK_MARGIN
            headers = {"Cookie": f"sessionid={session_key}; csrftoken={csrf}", "X-CSRFToken": csrf,
                       "Referer": answer_url}
            before_kib = proc_status_kb(daphne.pid, "VmRSS")["VmRSS"]
            sampler = RssSampler(daphne.pid)
            sampler.start()
            with open(source, "rb") as stream:
                uploader = tus_client.TusClient(f"{base}/requests/{footage_request.pk}/uploads/",
                                                headers=headers).uploader(
                    file_stream=stream, chunk_size=chunk, metadata={"filename": "bench-1GiB.mp4"})
                upload_s, _ = timed(uploader.upload)
            sampler.stop()
            hwm_kib = proc_status_kb(daphne.pid, "VmHWM")["VmHWM"]
        except BaseException:
            log.flush()
            tail = log_path.read_text(errors="replace").splitlines()[-30:]
            print("daphne's last log lines:\n  " + "\n  ".join(tail))
            raise
        finally:
            if sampler is not None:
                sampler.stop()
            stop_process(daphne)

    upload_rate = FILE_BYTES / MB / upload_s
    patches = math.ceil(FILE_BYTES / chunk)
    print(f"tus upload through daphne (tuspy, 1 POST + {patches} PATCHes of at most {chunk:,} bytes; "
          f"server cap {settings.UPLOAD_MAX_CHUNK_BYTES:,}): {upload_s:.2f} s, {upload_rate:,.0f} MB/s "
          f"({upload_rate / copy_rate:.2f} of the copy)")
    peak_kib = max([before_kib, *sampler.samples])
    print(f"daphne memory (VmRSS every {SAMPLE_INTERVAL_S * 1000:.0f} ms, {len(sampler.samples)} samples): "
          f"before the upload {mb(before_kib):.1f} MB, peak during it {mb(peak_kib):.1f} MB "
          f"(+{mb(peak_kib - before_kib):.1f} MB); VmHWM at the end {mb(hwm_kib):.1f} MB")
    worst = max(peak_kib, hwm_kib)
    print(f"target: peak under {TARGET_PEAK_MB} MB (VmHWM, the kernel's exact peak): "
          f"{'met' if mb(worst) < TARGET_PEAK_MB else 'NOT met'}")

    upload = Upload.objects.get(pk=uploader.url.rstrip("/").rsplit("/", 1)[1])
    submission = FootageSubmission.objects.filter(upload=upload).first()
    stored = upload.path if upload.path.exists() else (evidence_path(submission) if submission else upload.path)
    queued = [task.func() for task in OrmQ.objects.all()]
    print(f"upload row: offset {upload.offset:,} of {upload.length:,}, "
          f"{'complete' if upload.completed_at else 'NOT complete'}; submission "
          f"{submission.get_status_display().lower() if submission else 'missing'}; queued, not run: "
          f"{', '.join(queued) or 'nothing'}")
    size = stored.stat().st_size if stored.exists() else None
    hash_s, (source_hash, stored_hash) = timed(lambda: (sha256_of(source), sha256_of(stored) if size else None))
    same = size == FILE_BYTES and source_hash == stored_hash
    shown = stored.relative_to(settings.FOOTAGE_ROOT) if stored.is_relative_to(settings.FOOTAGE_ROOT) else stored
    print(f"stored file: FOOTAGE_ROOT/{shown}, {size or 0:,} bytes; SHA-256 identical: {'yes' if same else 'no'} "
          f"({source_hash[:16]}…, both hashed in {hash_s:.1f} s)")
    problems = log_path.read_text(errors="replace").count("Traceback")
    if problems:
        print(f"daphne logged {problems} traceback(s)")
    return same and upload.completed_at is not None and submission is not None


def timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def main():
    return run_on_throwaway_database("portal-bench-upload-", configure_environment, run)


if __name__ == "__main__":
    sys.exit(main())
