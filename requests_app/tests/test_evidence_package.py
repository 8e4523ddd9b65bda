import hashlib
import io
import json
import os
import subprocess
import sys
import tracemalloc
import zipfile
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.http import StreamingHttpResponse
from django.utils import timezone

from cameras.tests.factories import CameraFactory
from portal.audit import audit_verify
from portal.models import AuditEvent
from portal.tests.factories import OwnerFactory, sign_waiver
from requests_app import services
from requests_app.evidence_package import evidence_package_create
from requests_app.models import EvidencePackage, EvidencePackageLink, FootageRequest, FootageSubmission
from requests_app.package_verify import __file__ as VERIFY_SOURCE
from requests_app.tests.factories import finished_upload, submit
from requests_app.tests.videos import make_mov, make_mp4

pytestmark = pytest.mark.django_db


def second_owner_request(incident, operator):
    """Another owner with a camera at the incident, asked by a second area request, who agreed."""
    owner = OwnerFactory(full_name="Sam Second")
    sign_waiver(owner)
    CameraFactory(owner=owner, latitude=incident.latitude, longitude=incident.longitude, name="Shop door")
    end = timezone.now() - timedelta(hours=1)
    services.area_request_create(incident=incident, sender=operator, latitude=incident.latitude,
                                 longitude=incident.longitude, radius_m=100, window_start=end - timedelta(hours=1),
                                 window_end=end)
    return services.footage_request_approve(footage_request=FootageRequest.objects.get(owner=owner))


@pytest.fixture
def files(approved_request, operator, django_capture_on_commit_callbacks):
    """Three accepted files of one incident, from two owners."""
    capture = django_capture_on_commit_callbacks
    first = submit(approved_request, finished_upload(approved_request, lambda p: make_mp4(p, seconds=1),
                                                     name="porch.mp4"), capture)
    second = submit(approved_request, finished_upload(approved_request, lambda p: make_mov(p, seconds=1),
                                                      name="driveway camera.mov"), capture)
    other = second_owner_request(approved_request.area_request.incident, operator)
    third = submit(other, finished_upload(other, lambda p: make_mp4(p, seconds=1, width=160, height=120),
                                          name="shop.mp4"), capture)
    assert {each.status for each in (first, second, third)} == {FootageSubmission.Status.ACCEPTED}
    return [first, second, third]


@pytest.fixture
def incident(files):
    return files[0].footage_request.area_request.incident


@pytest.fixture
def package(incident, operator):
    return evidence_package_create(incident=incident, actor=operator)


def body(response):
    return b"".join(response.streaming_content)


def run_verify(*arguments, cwd=None):
    return subprocess.run([sys.executable, *arguments], capture_output=True, text=True, cwd=cwd, timeout=60)  # noqa: S603


def rewritten(zip_bytes, change):
    """A copy of the ZIP with `change(name, data)` applied to each entry (None drops it)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = change(info.filename, source.read(info.filename))
            if data is not None:
                target.writestr(info.filename, data)
    return out.getvalue()


def download_package(client, login, operator, incident, ids=None):
    login(client, operator)
    data = {"submissions": [str(pk) for pk in ids]} if ids is not None else {
        "submissions": [str(each.pk) for each in FootageSubmission.objects.accepted()]}
    response = client.post(f"/staff/incidents/{incident.pk}/evidence-packages/", data)
    assert response.status_code == 302, response.content.decode()
    package = EvidencePackage.objects.get()
    assert response["Location"] == f"/staff/evidence/packages/{package.pk}/"
    download = client.get(f"/staff/evidence/packages/{package.pk}/download/")
    assert download.status_code == 200
    assert isinstance(download, StreamingHttpResponse)
    assert download["Content-Type"] == "application/zip"
    assert "attachment" in download["Content-Disposition"]
    return package, body(download)


def test_a_package_holds_the_original_files_a_manifest_the_pdf_and_the_verifier(
        footage_backend, client, login, operator, files, incident, tmp_path):
    package, zip_bytes = download_package(client, login, operator, incident)

    archive = zipfile.ZipFile(io.BytesIO(zip_bytes))
    names = archive.namelist()
    assert {"README.txt", "manifest.json", "verify.py", "custody_report.pdf"} <= set(names)
    assert all(info.compress_type == zipfile.ZIP_STORED for info in archive.infolist())
    manifest = json.loads(archive.read("manifest.json"))
    assert hashlib.sha256(archive.read("manifest.json")).hexdigest() == package.manifest_sha256
    assert (manifest["package_id"], manifest["incident"]["reference"]) == (str(package.pk), incident.reference)
    assert manifest["created_by"] == operator.staff_label and manifest["created_at"]
    by_id = {entry["submission_id"]: entry for entry in manifest["files"]}
    assert set(by_id) == {each.pk for each in files}
    for submission in files:
        entry = by_id[submission.pk]
        data = archive.read(entry["name"])
        assert entry["name"].startswith("files/")
        assert hashlib.sha256(data).hexdigest() == entry["sha256"] == submission.sha256
        assert len(data) == entry["size"] == submission.size
        assert (entry["container"], entry["codec"], entry["width"], entry["height"]) == (
            submission.media["container"], submission.media["codec"], submission.media["width"],
            submission.media["height"])
        assert entry["duration_s"] == pytest.approx(1, abs=0.2)
        assert entry["owner"] == submission.footage_request.owner.display_name
        assert entry["footage_request_id"] == submission.footage_request_id
        assert entry["cameras"] == [{"id": camera.pk, "name": camera.name}
                                    for camera in submission.footage_request.cameras.all()]
        assert entry["uploaded_at"] and entry["accepted_at"]
        actions = [event["action"] for event in entry["audit_events"]]
        assert {"area_request.created", "request.approved", "footage.uploaded", "footage.accepted"} <= set(actions)
        for event in entry["audit_events"]:
            stored = AuditEvent.objects.get(pk=event["id"])
            assert (event["hash"], event["previous_hash"]) == (stored.hash, stored.previous_hash)
            content = {key: value for key, value in event.items() if key not in ("id", "hash", "previous_hash")}
            canonical = json.dumps(content, sort_keys=True, separators=(",", ":"))
            assert hashlib.sha256(f"{event['previous_hash']}|{canonical}".encode()).hexdigest() == event["hash"]
    assert by_id[files[2].pk]["owner"] == "Sam Second"
    assert by_id[files[2].pk]["cameras"][0]["name"] == "Shop door"
    assert archive.read("verify.py") == open(VERIFY_SOURCE, "rb").read()

    pdf = archive.read("custody_report.pdf")
    assert pdf.startswith(b"%PDF")
    for submission in files:
        assert submission.sha256.encode() in pdf
    assert package.manifest_sha256.encode() in pdf

    zip_path = tmp_path / "package.zip"
    zip_path.write_bytes(zip_bytes)
    checked = run_verify(VERIFY_SOURCE, str(zip_path))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    extracted = tmp_path / "extracted"
    archive.extractall(extracted)
    inside = run_verify("verify.py", cwd=extracted)
    assert inside.returncode == 0, inside.stdout + inside.stderr
    lines = inside.stdout.splitlines()
    assert sum(line.startswith("OK  files/") for line in lines) == 3
    assert lines[-1] == "RESULT: OK: all 3 files match the manifest."


@pytest.fixture
def package_zip(client, login, operator, files, incident, tmp_path):
    _package, zip_bytes = download_package(client, login, operator, incident)
    return zip_bytes


def test_the_bundled_verifier_names_a_file_altered_by_one_byte(package_zip, tmp_path):
    archive = zipfile.ZipFile(io.BytesIO(package_zip))
    target = next(name for name in archive.namelist() if name.startswith("files/"))
    altered = tmp_path / "altered.zip"
    altered.write_bytes(rewritten(package_zip, lambda name, data: (
        data[:100] + bytes([data[100] ^ 1]) + data[101:]) if name == target else data))
    (tmp_path / "verify.py").write_bytes(archive.read("verify.py"))

    result = run_verify(str(tmp_path / "verify.py"), str(altered))

    assert result.returncode == 1
    failures = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
    assert len(failures) == 1 and target in failures[0] and "ALTERED" in failures[0]
    assert "RESULT: FAILED" in result.stdout and target in result.stdout.splitlines()[-1]


def test_the_bundled_verifier_names_a_missing_file_in_an_extracted_package(package_zip, tmp_path):
    archive = zipfile.ZipFile(io.BytesIO(package_zip))
    folder = tmp_path / "extracted"
    archive.extractall(folder)
    removed = next(name for name in archive.namelist() if name.startswith("files/"))
    os.remove(folder / removed)

    result = run_verify("verify.py", cwd=folder)

    assert result.returncode == 1
    assert f"FAIL  {removed} is missing from the package" in result.stdout


def test_a_file_slipped_into_the_package_fails_the_check(package_zip, tmp_path):
    extra = tmp_path / "extra.zip"
    extra.write_bytes(package_zip)
    with zipfile.ZipFile(extra, "a") as archive:
        archive.writestr("files/99-planted.mp4", b"not from the portal")

    result = run_verify(VERIFY_SOURCE, str(extra))

    assert result.returncode == 1 and "files/99-planted.mp4 is in the package but not in the manifest" in result.stdout


def test_the_verify_package_command_runs_the_same_check(package_zip, tmp_path):
    good = tmp_path / "good.zip"
    good.write_bytes(package_zip)
    out = io.StringIO()
    call_command("verify_package", str(good), stdout=out)
    assert out.getvalue().splitlines()[-1] == "RESULT: OK: all 3 files match the manifest."

    manifest = json.loads(zipfile.ZipFile(good).read("manifest.json"))
    target = manifest["files"][1]["name"]
    bad = tmp_path / "bad.zip"
    bad.write_bytes(rewritten(package_zip, lambda name, data: None if name == target else (
        data + b"x" if name == manifest["files"][0]["name"] else data)))
    out = io.StringIO()
    with pytest.raises(CommandError) as refused:
        call_command("verify_package", str(bad), stdout=out)
    assert refused.value.returncode == 1
    assert f"FAIL  {target} is missing" in out.getvalue()
    assert f"FAIL  {manifest['files'][0]['name']} is ALTERED" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("verify_package", str(tmp_path / "nothing.zip"), stdout=io.StringIO())


def test_a_selection_packages_only_the_files_chosen(client, login, operator, files, incident):
    _package, zip_bytes = download_package(client, login, operator, incident, ids=[files[0].pk, files[2].pk])

    manifest = json.loads(zipfile.ZipFile(io.BytesIO(zip_bytes)).read("manifest.json"))
    assert [entry["submission_id"] for entry in manifest["files"]] == [files[0].pk, files[2].pk]


def test_files_of_another_incident_or_deleted_cannot_be_chosen(client, login, operator, files, incident,
                                                                 django_capture_on_commit_callbacks):
    from requests_app.tests.conftest import send_request_to_one_owner

    elsewhere = services.footage_request_approve(footage_request=send_request_to_one_owner(operator))
    foreign = submit(elsewhere, finished_upload(elsewhere, lambda p: make_mp4(p, seconds=1), name="far.mp4"),
                     django_capture_on_commit_callbacks)
    FootageSubmission.objects.filter(pk=files[1].pk).update(status=FootageSubmission.Status.PURGED)
    login(client, operator)

    for chosen in ([files[0].pk, foreign.pk], [files[1].pk], []):
        response = client.post(f"/staff/incidents/{incident.pk}/evidence-packages/",
                               {"submissions": [str(pk) for pk in chosen]})
        assert response.status_code == 200
        assert 'role="alert"' in response.content.decode()
    assert not EvidencePackage.objects.exists()
    page = client.get(f"/staff/incidents/{incident.pk}/evidence-packages/").content.decode()
    assert files[0].original_name in page and files[1].original_name not in page


def test_a_package_whose_file_was_deleted_since_is_refused_with_the_reason(client, login, operator, package,
                                                                             files):
    FootageSubmission.objects.filter(pk=files[0].pk).update(status=FootageSubmission.Status.PURGED)
    login(client, operator)

    response = client.get(f"/staff/evidence/packages/{package.pk}/download/")

    assert response.status_code == 410
    assert "porch.mp4 was deleted under the retention rules" in response.content.decode()
    assert not AuditEvent.objects.filter(action="evidence.package_downloaded").exists()


def test_each_download_is_in_every_owners_access_log(client, login, operator, package, files):
    login(client, operator)
    body(client.get(f"/staff/evidence/packages/{package.pk}/download/"))

    events = AuditEvent.objects.filter(action="evidence.package_downloaded")
    assert {(event.target, event.camera_owner_id, event.actor_id) for event in events} == {
        (f"submission:{each.pk}", each.footage_request.owner_id, operator.pk) for each in files}
    assert all(event.details["package"] == str(package.pk) for event in events)
    assert audit_verify().ok
    # The oversight desk flags package downloads by staff neither assigned to the incident nor its author.
    assert set(AuditEvent.objects.footage_downloads_by_unassigned_staff()) == set(events)
    for owner in {each.footage_request.owner for each in files}:
        client.logout()
        login(client, owner)
        assert "Evidence package downloaded" in client.get("/access-log/").content.decode()
    # The next custody report of a file shows the package download too.
    client.logout()
    login(client, operator)
    assert "evidence.package_downloaded" in client.get(f"/staff/evidence/{files[0].pk}/custody/").content.decode()


def test_the_download_streams_a_large_file_in_small_pieces(client, login, operator, approved_request, disk_footage):
    size = 200 * 1024 * 1024
    path = disk_footage / "evidence" / "big.mp4"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        handle.truncate(size)  # sparse: 200 MB of zeros, no disk space used
    digest = hashlib.sha256()
    zeros = bytes(1024 * 1024)
    for _ in range(size // len(zeros)):
        digest.update(zeros)
    FootageSubmission.objects.create(
        footage_request=approved_request, original_name="big.mp4", stored_name="big.mp4", size=size,
        sha256=digest.hexdigest(), status=FootageSubmission.Status.ACCEPTED, processed_at=timezone.now(),
        media={"container": "mp4", "codec": "h264", "duration_s": 3600, "width": 1920, "height": 1080})
    package = evidence_package_create(incident=approved_request.area_request.incident, actor=operator)
    login(client, operator)

    tracemalloc.start()
    try:
        response = client.get(f"/staff/evidence/packages/{package.pk}/download/")
        assert isinstance(response, StreamingHttpResponse)
        received, largest, tail = 0, 0, b""
        for piece in response.streaming_content:
            received += len(piece)
            largest = max(largest, len(piece))
            tail = (tail + piece)[-200_000:]
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert received > size
    assert largest <= 2 * 1024 * 1024
    assert peak < 20 * 1024 * 1024, f"peak {peak} bytes"
    assert b"PK\x05\x06" in tail  # the end of the central directory: the ZIP was finished


# --- Who may do what ----------------------------------------------------------------------------

def _urls(package, link):
    return {
        "create_page": ("get", f"/staff/incidents/{package.incident_id}/evidence-packages/"),
        "create": ("post", f"/staff/incidents/{package.incident_id}/evidence-packages/"),
        "page": ("get", f"/staff/evidence/packages/{package.pk}/"),
        "download": ("get", f"/staff/evidence/packages/{package.pk}/download/"),
        "link_create": ("post", f"/staff/evidence/packages/{package.pk}/links/"),
        "link_revoke": ("post", f"/staff/evidence/packages/{package.pk}/links/{link.pk}/revoke/"),
    }


ALLOWED = {"create_page": 200, "create": 302, "page": 200, "download": 200, "link_create": 200, "link_revoke": 302}


@pytest.fixture
def link(package, operator):
    from requests_app.evidence_package import evidence_package_link_create

    return evidence_package_link_create(package=package, actor=operator, recipient="DA office", days=7)[0]


def _call(client, method, url, files):
    data = {}
    if url.endswith("evidence-packages/") and method == "post":
        data = {"submissions": [str(files[0].pk)]}
    elif url.endswith("/links/"):
        data = {"recipient": "District Attorney", "days": "7"}
    return getattr(client, method)(url, data)


@pytest.mark.parametrize("action", list(ALLOWED))
@pytest.mark.parametrize(("role", "expected"), [("operator", "allowed"), ("supervisor", "allowed"),
                                                ("officer", 404), ("oversight", 403), ("resident", 403),
                                                ("anonymous", 302)])
def test_who_may_create_download_and_share_packages(client, login, request, package, link, files, action, role,
                                                    expected):
    if role != "anonymous":
        login(client, request.getfixturevalue(role))
    method, url = _urls(package, link)[action]

    response = _call(client, method, url, files)

    assert response.status_code == (ALLOWED[action] if expected == "allowed" else expected)
    if role == "anonymous":
        assert response["Location"].startswith("/accounts/login/")
    if expected != "allowed":
        assert EvidencePackage.objects.count() == 1 and EvidencePackageLink.objects.count() == 1
        assert EvidencePackageLink.objects.get().revoked_at is None
        assert not AuditEvent.objects.filter(action="evidence.package_downloaded").exists()


@pytest.mark.parametrize("action", list(ALLOWED))
def test_an_officer_assigned_to_the_incident_may_too(client, login, officer, package, link, files, action):
    package.incident.assigned_officers.add(officer)
    login(client, officer)
    method, url = _urls(package, link)[action]

    assert _call(client, method, url, files).status_code == ALLOWED[action]


# --- Sharing with a prosecutor ------------------------------------------------------------------

def create_link(client, login, operator, package, days="7"):
    login(client, operator)
    response = client.post(f"/staff/evidence/packages/{package.pk}/links/",
                           {"recipient": "DA office, J. Rivera", "days": days})
    return response


def shared_url(response):
    import re

    return re.search(r'value="http://testserver(/evidence/packages/[^"]+/)"', response.content.decode()).group(1)


def test_a_prosecutors_link_downloads_the_same_package_without_signing_in(footage_backend, client, login, operator,
                                                                           package, files):
    response = create_link(client, login, operator, package)
    assert response.status_code == 200 and "it is shown only once" in response.content.decode()
    url = shared_url(response)
    link = EvidencePackageLink.objects.get()
    assert link.token_hash != url.split("/")[-2] and len(link.token_hash) == 64
    assert AuditEvent.objects.filter(action="evidence.package_link_created", actor=operator).exists()
    client.logout()

    download = client.get(url)

    assert download.status_code == 200 and isinstance(download, StreamingHttpResponse)
    assert download["Referrer-Policy"] == "no-referrer"
    archive = zipfile.ZipFile(io.BytesIO(body(download)))
    assert archive.read("manifest.json").decode() == package.manifest
    for submission in files:
        entry = next(e for e in json.loads(package.manifest)["files"] if e["submission_id"] == submission.pk)
        assert hashlib.sha256(archive.read(entry["name"])).hexdigest() == submission.sha256
    events = AuditEvent.objects.filter(action="evidence.package_shared_download")
    assert {(event.camera_owner_id, event.actor_id, event.details["recipient"]) for event in events} == {
        (each.footage_request.owner_id, None, "DA office, J. Rivera") for each in files}
    link.refresh_from_db()
    assert link.download_count == 1 and link.last_downloaded_at is not None
    login(client, files[0].footage_request.owner)
    assert "Evidence package downloaded by the prosecutor&#x27;s link" in client.get("/access-log/").content.decode()


def test_a_link_may_last_at_most_thirty_days_and_names_its_recipient(client, login, operator, package):
    for days in ("0", "31", "soon"):
        assert create_link(client, login, operator, package, days=days).status_code == 400
    response = client.post(f"/staff/evidence/packages/{package.pk}/links/", {"recipient": " ", "days": "3"})
    assert response.status_code == 400 and 'role="alert"' in response.content.decode()
    assert not EvidencePackageLink.objects.exists()
    assert create_link(client, login, operator, package, days="30").status_code == 200


def test_a_revoked_link_stops_at_once(client, login, operator, package):
    url = shared_url(create_link(client, login, operator, package))
    link = EvidencePackageLink.objects.get()

    response = client.post(f"/staff/evidence/packages/{package.pk}/links/{link.pk}/revoke/")

    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="evidence.package_link_revoked", actor=operator).count() == 1
    client.logout()
    refused = client.get(url)
    assert refused.status_code == 410 and "This link was withdrawn" in refused.content.decode()
    assert not AuditEvent.objects.filter(action="evidence.package_shared_download").exists()


def test_an_expired_or_unknown_link_gets_a_clear_page(client, login, operator, package):
    url = shared_url(create_link(client, login, operator, package))
    EvidencePackageLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    client.logout()

    expired = client.get(url)
    unknown = client.get(url[:-5] + "abcd/")

    assert expired.status_code == 410 and "This link has expired" in expired.content.decode()
    assert unknown.status_code == 404 and "This link is not valid" in unknown.content.decode()
    assert not AuditEvent.objects.filter(action="evidence.package_shared_download").exists()


def test_a_link_opens_only_its_own_package(client, login, operator, package, incident):
    url = shared_url(create_link(client, login, operator, package))
    other = evidence_package_create(incident=incident, actor=operator, submission_ids=[
        FootageSubmission.objects.accepted().first().pk])
    client.logout()

    response = client.get(url)

    manifest = json.loads(zipfile.ZipFile(io.BytesIO(body(response))).read("manifest.json"))
    assert manifest["package_id"] == str(package.pk) != str(other.pk)


def test_the_incident_page_links_to_the_export(client, login, operator, files, incident):
    login(client, operator)

    page = client.get(f"/staff/incidents/{incident.pk}/").content.decode()

    assert f"/staff/incidents/{incident.pk}/evidence-packages/" in page and "Export evidence package" in page

