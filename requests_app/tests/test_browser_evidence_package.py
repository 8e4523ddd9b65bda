"""An operator exports an evidence package from the incident page, downloads it and makes a prosecutor's
link, in a real browser, desktop and a 375-pixel phone."""

import hashlib
import json
import zipfile

import pytest

from portal.tests.browser_helpers import staff_sign_in
from portal.tests.factories import PASSWORD as STAFF_PASSWORD
from requests_app.models import EvidencePackage, EvidencePackageLink
from requests_app.tests.factories import finished_upload, submit
from requests_app.tests.videos import make_mp4

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def no_channel_layer(settings):
    """The browser's event loop owns this thread, so real-time events (async_to_sync) would fail."""
    settings.CHANNEL_LAYERS = {}


def give(footage_request, capture, name):
    return submit(footage_request, finished_upload(footage_request, lambda path: make_mp4(path, seconds=1),
                                                   name=name), capture)


def test_an_operator_exports_a_package_and_shares_it(no_channel_layer, page, approved_request, operator, tmp_path,
                                                      django_capture_on_commit_callbacks, screenshot,
                                                      console_errors):
    capture = django_capture_on_commit_callbacks
    front = give(approved_request, capture, "front-door.mp4")
    give(approved_request, capture, "garage-night.mp4")
    back = give(approved_request, capture, "backyard.mp4")
    incident = approved_request.area_request.incident
    staff_sign_in(page, operator, STAFF_PASSWORD)

    page.goto(f"/staff/incidents/{incident.pk}/")
    page.get_by_role("link", name="Export evidence package").click()
    page.get_by_label("garage-night.mp4", exact=False).uncheck()  # every file starts ticked
    screenshot("evidence-package-choose")
    screenshot("evidence-package-choose", phone=True)
    page.get_by_role("button", name="Create the package").click()
    page.get_by_text("Package created with 2 files.").wait_for()
    package = EvidencePackage.objects.get()

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the package (ZIP)").click()
    path = tmp_path / "package.zip"
    download_info.value.save_as(path)
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        assert [entry["submission_id"] for entry in manifest["files"]] == [front.pk, back.pk]
        for entry in manifest["files"]:
            assert hashlib.sha256(archive.read(entry["name"])).hexdigest() == entry["sha256"]
    assert manifest["package_id"] == str(package.pk)

    page.get_by_label("Who the link is for").fill("District Attorney's office, J. Rivera")
    page.get_by_label("Days until the link expires").fill("14")
    page.get_by_role("button", name="Create a link").click()
    shown = page.get_by_label("Link", exact=True).input_value()
    assert "/evidence/packages/" in shown
    screenshot("evidence-package-shared")
    screenshot("evidence-package-shared", phone=True)

    link = EvidencePackageLink.objects.get()
    assert link.recipient == "District Attorney's office, J. Rivera"
    # The prosecutor, without an account, gets the same package from the link.
    other = page.context.browser.new_context()
    prosecutor = other.new_page()
    prosecutor.set_content(f'<a href="{shown}">package</a>')  # as if clicked in the e-mail they were sent
    with prosecutor.expect_download() as shared_info:
        prosecutor.get_by_role("link", name="package").click()
    shared = tmp_path / "shared.zip"
    shared_info.value.save_as(shared)
    assert zipfile.ZipFile(shared).read("manifest.json").decode() == package.manifest
    other.close()

    page.get_by_role("button", name="Revoke — District Attorney's office, J. Rivera").click()
    page.get_by_text("is revoked: it no longer works").wait_for()
    screenshot("evidence-package-revoked", phone=True)
    # This live server speaks HTTP only: the incident page's live-update socket cannot connect here.
    assert [error for error in console_errors if "WebSocket" not in error and "/ws/" not in error] == []


def test_a_prosecutors_link_streams_the_package_through_daphne(no_channel_layer, asgi_live_server, approved_request,
                                                                 operator, settings,
                                                                 django_capture_on_commit_callbacks, tmp_path):
    from urllib.request import urlopen

    from requests_app.evidence_package import evidence_package_create, evidence_package_link_create

    settings.FOOTAGE_ROOT = asgi_live_server.footage_root  # where the daphne child reads footage
    front = give(approved_request, django_capture_on_commit_callbacks, "front-door.mp4")
    package = evidence_package_create(incident=approved_request.area_request.incident, actor=operator)
    _link, token = evidence_package_link_create(package=package, actor=operator, recipient="DA", days=1)

    with urlopen(f"{asgi_live_server.url}/evidence/packages/{token}/", timeout=30) as response:  # noqa: S310
        assert response.headers["Content-Type"] == "application/zip"
        path = tmp_path / "shared.zip"
        path.write_bytes(response.read())

    with zipfile.ZipFile(path) as archive:
        entry = json.loads(archive.read("manifest.json"))["files"][0]
        assert hashlib.sha256(archive.read(entry["name"])).hexdigest() == front.sha256
        assert archive.read("custody_report.pdf").startswith(b"%PDF")
