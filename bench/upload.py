"""Benchmark of a 1 GiB tus upload through daphne, to disk and to S3: throughput, the server's memory, the bytes stored.

    .venv/bin/python bench/upload.py
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench .venv/bin/python bench/upload.py

It never touches the developer's own database or footage: by default it runs on a new SQLite file in a
temporary directory, which also holds FOOTAGE_ROOT and the file uploaded; with BENCH_DATABASE_URL it creates
that PostgreSQL database (which must not exist yet) and drops it at the end. The S3 run starts its own
SeaweedFS server (requests_app/tests/s3server.py) in the temporary directory. See bench/README.md.
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

def create_approved_request(operator=None, incident=None):
    """An owner and a footage request the owner approved (for a new incident, or `incident`, asked by a new
    operator, or `operator`), straight through the ORM."""
    from datetime import timedelta

    from allauth.account.models import EmailAddress
    from django.utils import timezone

    from incidents.models import Incident
    from portal.models import User
    from requests_app.models import AreaRequest, FootageRequest

    now = timezone.now()
    owner = User.objects.create_user(email="bench-owner@example.org", full_name="Bench Owner")
    EmailAddress.objects.create(user=owner, email=owner.email, verified=True, primary=True)
    operator = operator or User.objects.create_user(
        email="operator@police.example.org", full_name="Bench Operator", account_type=User.AccountType.STAFF,
        is_staff=True, badge_number="4242")
    incident = incident or Incident.objects.create(
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
    from django.conf import settings
    from django.db import connection, connections

    from requests_app.tests.s3server import S3Server

    with connection.cursor() as cursor:
        cursor.execute("SELECT sqlite_version()" if connection.vendor == "sqlite" else "SHOW server_version")
        version = cursor.fetchone()[0]
    print(f"database: {connection.vendor} {version} ({connection.settings_dict['NAME']})")

    source = Path(temp_dir) / "source.bin"
    write_s, _ = timed(lambda: write_random_file(source, FILE_BYTES))
    print(f"file: {FILE_BYTES:,} bytes (1 GiB) of random bytes, written and fsynced in {write_s:.1f} s")
    source_hash = sha256_of(source)

    copy = Path(temp_dir) / "copy.bin"
    copy_s, _ = timed(lambda: copy_with_fsync(source, copy))
    copy.unlink()
    copy_rate = FILE_BYTES / MB / copy_s
    print(f"file copy, shutil.copyfile + fsync on the same file system (baseline): {copy_s:.2f} s, "
          f"{copy_rate:,.0f} MB/s")

    footage_request = create_approved_request()
    session_key = granted_session(footage_request)
    connections.close_all()  # daphne has the database to itself while it serves

    results = {}
    print("\n1. footage on disk (FOOTAGE_ROOT, the embedded default)")
    results["disk"] = upload_through_daphne(temp_dir, footage_request, session_key, source, {}, copy_rate)
    results["disk"]["same"] = check_stored(results["disk"], source_hash, s3=None)
    server = S3Server(bucket="footage-bench", volume_size_mb=1024).start()
    try:
        print(f"\n2. footage in S3 (SeaweedFS {server.endpoint}, FOOTAGE_STORAGE_URL)")
        raw_rate = raw_multipart_rate(server, source, settings.UPLOAD_MAX_CHUNK_BYTES - CHUNK_MARGIN)
        results["s3"] = upload_through_daphne(temp_dir, footage_request, session_key, source,
                                              server.storage_url_environment(location="bench"), copy_rate)
        results["s3"]["same"] = check_stored(results["s3"], source_hash, s3=server)
    finally:
        server.stop()

    ratio = results["s3"]["rate"] / results["disk"]["rate"]
    print(f"\nS3 throughput / disk throughput (same process, same file): {ratio:.2f}")
    print(f"S3 through the portal / straight to the same server with boto3: {results['s3']['rate'] / raw_rate:.2f}")
    ok = True
    for label, result in results.items():
        met = mb(result["worst_kib"]) < TARGET_PEAK_MB
        print(f"target ({label}): daphne's peak under {TARGET_PEAK_MB} MB: {'met' if met else 'NOT met'} "
              f"({mb(result['worst_kib']):.1f} MB)")
        ok = ok and met and result["same"] and result["complete"]
    return ok


def raw_multipart_rate(server, source, part_bytes):
    """Baseline for the S3 run: the same file sent straight to the same server as a multipart upload with boto3,
    in parts of the same size, each with its SHA-256 (as the portal sends them), one after another."""
    import base64

    client = server.client(request_checksum_calculation="when_required",
                           s3={"addressing_style": "path", "payload_signing_enabled": False})
    started = time.perf_counter()
    created = client.create_multipart_upload(Bucket=server.bucket, Key="raw/source.bin", ChecksumAlgorithm="SHA256")
    parts = []
    with open(source, "rb") as file:
        for number in range(1, math.ceil(FILE_BYTES / part_bytes) + 1):
            piece = file.read(part_bytes)
            checksum = base64.b64encode(hashlib.sha256(piece).digest()).decode()
            answer = client.upload_part(Bucket=server.bucket, Key="raw/source.bin", PartNumber=number, Body=piece,
                                        UploadId=created["UploadId"], ChecksumSHA256=checksum)
            parts.append({"PartNumber": number, "ETag": answer["ETag"], "ChecksumSHA256": checksum})
    client.complete_multipart_upload(Bucket=server.bucket, Key="raw/source.bin", UploadId=created["UploadId"],
                                     MultipartUpload={"Parts": parts})
    elapsed = time.perf_counter() - started
    client.delete_object(Bucket=server.bucket, Key="raw/source.bin")
    rate = FILE_BYTES / MB / elapsed
    print(f"boto3 multipart upload straight to the server, {len(parts)} parts of {part_bytes:,} bytes "
          f"(baseline): {elapsed:.2f} s, {rate:,.0f} MB/s")
    return rate


def upload_through_daphne(temp_dir, footage_request, session_key, source, env, copy_rate):
    """One tuspy upload of `source` through a fresh daphne with `env`; its figures."""
    import requests
    from django.conf import settings
    from tusclient import client as tus_client

    from requests_app.models import Upload

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = Path(temp_dir) / f"daphne-{port}.log"
    daphne = sampler = None
    with open(log_path, "wb") as log:
        try:
            daphne = start_daphne(port, log, env=env)
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

    rate = FILE_BYTES / MB / upload_s
    patches = math.ceil(FILE_BYTES / chunk)
    print(f"tus upload through daphne (tuspy, 1 POST + {patches} PATCHes of at most {chunk:,} bytes; "
          f"server cap {settings.UPLOAD_MAX_CHUNK_BYTES:,}): {upload_s:.2f} s, {rate:,.0f} MB/s "
          f"({rate / copy_rate:.2f} of the copy)")
    peak_kib = max([before_kib, *sampler.samples])
    print(f"daphne memory (VmRSS every {SAMPLE_INTERVAL_S * 1000:.0f} ms, {len(sampler.samples)} samples): "
          f"before the upload {mb(before_kib):.1f} MB, peak during it {mb(peak_kib):.1f} MB "
          f"(+{mb(peak_kib - before_kib):.1f} MB); VmHWM at the end {mb(hwm_kib):.1f} MB")
    problems = log_path.read_text(errors="replace").count("Traceback")
    if problems:
        print(f"daphne logged {problems} traceback(s)")
    upload = Upload.objects.get(pk=uploader.url.rstrip("/").rsplit("/", 1)[1])
    return {"rate": rate, "worst_kib": max(peak_kib, hwm_kib), "upload": upload,
            "complete": upload.completed_at is not None and problems == 0}


def check_stored(result, source_hash, *, s3):
    """The stored bytes and the SHA-256 computed while they streamed in both match the source."""
    from django_q.models import OrmQ

    from requests_app.models import FootageSubmission

    upload = result["upload"]
    submission = FootageSubmission.objects.filter(upload=upload).first()
    queued = [task.func() for task in OrmQ.objects.all()]
    print(f"upload row: offset {upload.offset:,} of {upload.length:,}, "
          f"{'complete' if upload.completed_at else 'NOT complete'}"
          f"{f', {len(upload.parts)} S3 parts' if s3 else ''}; submission "
          f"{submission.get_status_display().lower() if submission else 'missing'}; queued, not run: "
          f"{', '.join(sorted(set(queued))) or 'nothing'}")
    started = time.perf_counter()
    if s3 is None:
        path = upload.path
        size = path.stat().st_size if path.exists() else 0
        stored_hash = sha256_of(path) if size else None
        where = f"FOOTAGE_ROOT/uploads/{path.name}"
    else:
        client = s3.client()
        key = f"bench/{upload.storage_name}"
        size = client.head_object(Bucket=s3.bucket, Key=key)["ContentLength"]
        digest = hashlib.sha256()
        for piece in client.get_object(Bucket=s3.bucket, Key=key)["Body"].iter_chunks(1024 * 1024):
            digest.update(piece)
        stored_hash = digest.hexdigest()
        where = f"s3://{s3.bucket}/{key}"
    hash_s = time.perf_counter() - started
    same = size == FILE_BYTES and stored_hash == source_hash == upload.sha256
    print(f"stored file: {where}, {size:,} bytes; SHA-256 of the stored bytes, of the source and as computed "
          f"while receiving identical: {'yes' if same else 'no'} ({source_hash[:16]}…, read back in {hash_s:.1f} s)")
    return same


def timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def main():
    return run_on_throwaway_database("portal-bench-upload-", configure_environment, run)


if __name__ == "__main__":
    sys.exit(main())
