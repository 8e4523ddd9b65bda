"""The owner's "Files I gave" on the dashboard, in a real browser: where each file stands under the
retention rules, a row that moves on from "Being checked" without a reload, desktop and a 375-pixel phone."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.formats import date_format
from django_q.conf import Conf

from incidents.models import Incident
from portal.tests.browser_helpers import PASSWORD, sign_in
from requests_app import services
from requests_app.models import FootageRequest, FootageSubmission
from requests_app.submissions import submission_create, submission_process
from requests_app.tests.factories import IncidentFactory, finished_upload, submit
from requests_app.tests.videos import make_mp4

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def no_channel_layer(settings):
    """The browser's event loop owns this thread, so real-time events (async_to_sync) would fail."""
    settings.CHANNEL_LAYERS = {}


@pytest.fixture
def video(tmp_path):
    path = tmp_path / "clip.mp4"
    make_mp4(path, seconds=1)
    return path


def another_request(owner, operator, *, reference):
    """A second incident at the owner's camera, asked about and approved."""
    camera = owner.cameras.get()
    incident = IncidentFactory(reference=reference, latitude=camera.latitude, longitude=camera.longitude,
                               incident_type=Incident.Type.THEFT)
    end = timezone.now() - timedelta(hours=1)
    services.area_request_create(incident=incident, sender=operator, latitude=incident.latitude,
                                 longitude=incident.longitude, radius_m=100, window_start=end - timedelta(hours=1),
                                 window_end=end)
    return services.footage_request_approve(footage_request=FootageRequest.objects.get(owner=owner,
                                                                                       area_request__incident=incident))


def give(footage_request, video, capture, name):
    return submit(footage_request, finished_upload(footage_request, lambda path: path.write_bytes(video.read_bytes()),
                                                   name=name), capture)


def close(footage_request, days_ago):
    Incident.objects.filter(pk=footage_request.area_request.incident_id).update(
        status=Incident.Status.CLOSED, closed_at=timezone.now() - timedelta(days=days_ago))


def test_the_owner_sees_where_each_file_stands(no_channel_layer, page, approved_request, operator, video, settings,
                                               django_capture_on_commit_callbacks, screenshot, console_errors,
                                               monkeypatch):
    owner = approved_request.owner
    owner.set_password(PASSWORD)
    owner.save()
    give(approved_request, video, django_capture_on_commit_callbacks, "front-door.mp4")
    scheduled = another_request(owner, operator, reference="2026-100001")
    give(scheduled, video, django_capture_on_commit_callbacks, "garage-camera-evening.mp4")
    close(scheduled, days_ago=10)
    deleted = another_request(owner, operator, reference="2026-100002")
    give(deleted, video, django_capture_on_commit_callbacks, "old-backyard.mp4")
    close(deleted, days_ago=settings.EVIDENCE_RETENTION_DAYS + 1)
    services.retention_purge()
    # One more file, still being checked: no worker runs its check until the test does.
    monkeypatch.setattr(Conf, "SYNC", False)
    upload = finished_upload(approved_request, lambda path: path.write_bytes(video.read_bytes()), name="side-gate.mp4")
    checking = submission_create(footage_request=approved_request, upload=upload, uploader=owner)

    sign_in(page, owner.email)
    page.goto("/dashboard/")
    files = page.locator("#files-given")
    files.wait_for()

    def row(name):
        return files.locator("[data-file-given]").filter(has_text=name)

    assert row("front-door.mp4").inner_text().count("Kept for an open case") == 1
    until = Incident.objects.get(reference="2026-100001").closed_at + timedelta(days=settings.EVIDENCE_RETENTION_DAYS)
    assert f"Scheduled for deletion on {date_format(timezone.localtime(until), 'DATE_FORMAT')}" in \
        row("garage-camera-evening.mp4").inner_text()
    assert "receipt sent" in row("old-backyard.mp4").inner_text()
    assert "Deleted on" in row("old-backyard.mp4").inner_text()
    assert "Being checked" in row("side-gate.mp4").inner_text()
    screenshot("owner-files-given")

    # The check finishes while the page is open: the row moves on by itself.
    submission_process(submission_id=checking.pk)
    assert FootageSubmission.objects.get(pk=checking.pk).status == FootageSubmission.Status.ACCEPTED
    files.locator("[data-file-given][data-retention=kept_open_case]").filter(has_text="side-gate.mp4").wait_for(
        timeout=15_000)
    assert "Being checked" not in page.locator("#files-given").inner_text()

    screenshot("owner-files-given", phone=True)
    page.set_viewport_size({"width": 375, "height": 812})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert console_errors == []


def test_the_close_page_lists_what_is_kept(no_channel_layer, page, approved_request, video, screenshot,
                                          django_capture_on_commit_callbacks, console_errors):
    owner = approved_request.owner
    owner.set_password(PASSWORD)
    owner.save()
    give(approved_request, video, django_capture_on_commit_callbacks, "front-door.mp4")

    sign_in(page, owner.email)
    page.goto("/account/close/")
    kept = page.get_by_test_id("footage-kept")
    assert "front-door.mp4" in kept.inner_text() and "Kept while its case is open" in kept.inner_text()
    screenshot("account-close-kept")
    screenshot("account-close-kept", phone=True)
    page.keyboard.press("Tab")  # the page is reachable by keyboard: the checkbox has a label
    assert page.get_by_label("Yes, close my account and remove my cameras").count() == 1
    assert console_errors == []


def test_a_supervisor_places_a_legal_hold_from_the_incident_page(no_channel_layer, page, approved_request, supervisor,
                                                                 video, django_capture_on_commit_callbacks,
                                                                 screenshot, console_errors):
    from portal.tests.browser_helpers import staff_sign_in
    from portal.tests.factories import PASSWORD as STAFF_PASSWORD

    submission = give(approved_request, video, django_capture_on_commit_callbacks, "front-door.mp4")
    staff_sign_in(page, supervisor, STAFF_PASSWORD)
    page.goto(f"/staff/incidents/{approved_request.area_request.incident_id}/")
    page.get_by_role("link", name="Place a legal hold — front-door.mp4").click()
    page.get_by_role("button", name="Place the hold").click()  # no reason: refused, nothing held
    page.get_by_text("This field is required.").wait_for()
    screenshot("legal-hold-form", phone=True)

    page.get_by_label("Reason (kept in the audit log; the owner does not see it)").fill("Court order 2026-114")
    page.get_by_role("button", name="Place the hold").click()
    footage = page.locator(f"[data-submission='{submission.pk}']")
    footage.get_by_text("On legal hold").wait_for()
    assert "Court order 2026-114" in footage.inner_text()
    screenshot("legal-hold-incident")
    submission.refresh_from_db()
    assert submission.is_held
    # This live server speaks HTTP only: the incident page's live-update socket cannot connect here.
    assert [error for error in console_errors if "WebSocket" not in error] == []
