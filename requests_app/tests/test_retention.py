"""Retention: the rules table, legal holds, the crash-safe deletion job (killed midway, on disk and S3),
deletion receipts, and who may hold footage."""

import json
import os
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone, translation
from django.utils.formats import date_format

from incidents.models import Incident
from portal.models import AuditEvent, OutboxEmail
from requests_app import services
from requests_app.models import AreaRequest, DeletionTombstone, FootageRequest, FootageSubmission
from requests_app.retention import (
    State,
    deletion_receipts_send_due,
    footage_hold_lift,
    footage_hold_place,
    retention_state,
)
from requests_app.submissions import evidence_name
from requests_app.tests.factories import finished_upload, submit
from requests_app.tests.footage import is_stored
from requests_app.tests.videos import make_mp4

ROOT = Path(__file__).resolve().parents[2]
NOW = timezone.now().replace(microsecond=0)
DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)


# --- The rules, as a table (no database: unsaved objects) ------------------------------------------------

def a_submission(*, status=FootageSubmission.Status.ACCEPTED, case="CASE-1", request_case="", incident_status="open",
                 closed_at=None, accepted_at=NOW - 10 * DAY, incident_updated=None, held=False, lifted_at=None):
    incident = Incident(reference="2026-000001", incident_type="burglary", case_number=case,
                        status=incident_status, closed_at=closed_at, latitude=0, longitude=0,
                        window_start=NOW - 20 * DAY, window_end=NOW - 20 * DAY)
    incident.updated_at = incident_updated or closed_at or NOW - 2000 * DAY
    area_request = AreaRequest(incident=incident, case_number=request_case)
    footage_request = FootageRequest(area_request=area_request)
    submission = FootageSubmission(footage_request=footage_request, status=status, processed_at=accepted_at,
                                   original_name="porch.mp4", size=10, hold_reason="Court order 7" if held else "",
                                   hold_lifted_at=lifted_at)
    submission.created_at = accepted_at
    return submission


@pytest.fixture
def periods(settings):
    settings.RETENTION_NO_CASE_DAYS = 90
    settings.EVIDENCE_RETENTION_DAYS = 365


RULES = [
    # (what, submission arguments, state, deletion date or None)
    ("being checked", {"status": "processing"}, State.BEING_CHECKED, None),
    ("rejected", {"status": "rejected"}, State.NOT_USED, None),
    ("a case, incident open", {}, State.KEPT_OPEN_CASE, None),
    ("a case, incident open for years", {"accepted_at": NOW - 2000 * DAY}, State.KEPT_OPEN_CASE, None),
    ("a case on the area request only", {"case": "", "request_case": "AR-9", "accepted_at": NOW - 400 * DAY},
     State.KEPT_OPEN_CASE, None),
    ("a case, closed a second short of the period",
     {"incident_status": "closed", "closed_at": NOW - 365 * DAY + SECOND}, State.SCHEDULED, NOW + SECOND),
    ("a case, closed exactly the period ago", {"incident_status": "closed", "closed_at": NOW - 365 * DAY},
     State.DUE, NOW),
    ("a case, closed long ago", {"incident_status": "closed", "closed_at": NOW - 900 * DAY}, State.DUE,
     NOW - 535 * DAY),
    ("no case, accepted a second short of 90 days", {"case": "", "accepted_at": NOW - 90 * DAY + SECOND},
     State.SCHEDULED, NOW + SECOND),
    ("no case, accepted exactly 90 days ago", {"case": "", "accepted_at": NOW - 90 * DAY}, State.DUE, NOW),
    ("no case, the incident updated since", {"case": "", "accepted_at": NOW - 200 * DAY,
                                             "incident_updated": NOW - 10 * DAY}, State.SCHEDULED, NOW + 80 * DAY),
    ("no case, a hold lifted since", {"case": "", "accepted_at": NOW - 200 * DAY, "lifted_at": NOW - DAY},
     State.SCHEDULED, NOW + 89 * DAY),
    ("no case, incident closed: the no-case period still counts",
     {"case": "", "incident_status": "closed", "closed_at": NOW - 100 * DAY, "accepted_at": NOW - 120 * DAY},
     State.DUE, NOW - 10 * DAY),
    ("a case, closed long ago, on hold", {"incident_status": "closed", "closed_at": NOW - 900 * DAY, "held": True},
     State.HELD, None),
    ("no case, long ago, on hold", {"case": "", "accepted_at": NOW - 900 * DAY, "held": True}, State.HELD, None),
    ("deleted before tombstones existed", {"status": "purged"}, State.DELETED, None),
]


@pytest.mark.parametrize(("what", "arguments", "code", "deletion_date"), RULES, ids=[rule[0] for rule in RULES])
def test_the_retention_rules(periods, what, arguments, code, deletion_date):
    state = retention_state(a_submission(**arguments), NOW)

    assert (state.code, state.deletion_date) == (code, deletion_date)


def test_the_rule_follows_the_settings(settings):
    settings.RETENTION_NO_CASE_DAYS = 30
    submission = a_submission(case="", accepted_at=NOW - 31 * DAY)

    assert retention_state(submission, NOW).code == State.DUE
    settings.RETENTION_NO_CASE_DAYS = 32
    assert retention_state(submission, NOW).deletion_date == NOW + DAY


def test_held_and_open_case_footage_read_the_same_to_owners(periods):
    held = retention_state(a_submission(held=True), NOW)
    open_case = retention_state(a_submission(), NOW)

    assert held.is_kept and open_case.is_kept
    assert held.code != open_case.code  # staff tell them apart


# --- Accepted footage in real storage ------------------------------------------------------------------

@pytest.fixture(scope="module")
def video(tmp_path_factory):
    path = tmp_path_factory.mktemp("videos") / "clip.mp4"
    make_mp4(path, seconds=1)
    return path


def give(footage_request, video, capture, name):
    """An accepted file named `name`, stored in the footage storage."""
    upload = finished_upload(footage_request, lambda path: path.write_bytes(video.read_bytes()), name=name)
    submission = submit(footage_request, upload, capture)
    assert submission.status == FootageSubmission.Status.ACCEPTED, submission.rejection_reason
    return submission


def close_incident(footage_request, *, days_ago):
    Incident.objects.filter(pk=footage_request.area_request.incident_id).update(
        status=Incident.Status.CLOSED, closed_at=timezone.now() - timedelta(days=days_ago))


def deletion_receipts():
    return [message for message in mail.outbox if message.subject.startswith("Deleted: your video")]


def purged_events():
    return AuditEvent.objects.filter(action="footage.purged")


@pytest.fixture
def three_files(footage_backend, approved_request, video, django_capture_on_commit_callbacks, settings):
    files = [give(approved_request, video, django_capture_on_commit_callbacks, f"clip-{n}.mp4") for n in range(3)]
    close_incident(approved_request, days_ago=settings.EVIDENCE_RETENTION_DAYS + 1)
    return files


@pytest.mark.django_db
def test_the_job_deletes_due_files_once_with_a_tombstone_an_audit_entry_and_a_receipt(
        three_files, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        counts = services.retention_purge()

    assert counts["evidence_purged"] == 3 and counts["deletions_finished"] == 0
    for submission in three_files:
        submission.refresh_from_db()
        assert submission.status == FootageSubmission.Status.PURGED
        assert not is_stored(evidence_name(submission))
        tombstone = submission.tombstone
        assert (tombstone.state, tombstone.sha256, tombstone.size, tombstone.stored_name, tombstone.rule) == (
            "done", submission.sha256, submission.size, evidence_name(submission), "evidence_retention")
        assert tombstone.receipt_sent_at is not None
        assert retention_state(submission, timezone.now()).code == State.DELETED
    assert purged_events().count() == 3
    assert len(deletion_receipts()) == 3

    with django_capture_on_commit_callbacks(execute=True):
        again = services.retention_purge()

    assert (again["evidence_purged"], again["deletions_finished"], again["receipts_sent"]) == (0, 0, 0)
    assert purged_events().count() == 3 and DeletionTombstone.objects.count() == 3 and len(deletion_receipts()) == 3


@pytest.mark.django_db
def test_files_not_yet_due_are_kept(footage_backend, approved_request, video, django_capture_on_commit_callbacks,
                                    settings):
    submission = give(approved_request, video, django_capture_on_commit_callbacks, "clip.mp4")
    close_incident(approved_request, days_ago=settings.EVIDENCE_RETENTION_DAYS - 1)

    assert services.retention_purge()["evidence_purged"] == 0
    assert is_stored(evidence_name(submission))
    assert not DeletionTombstone.objects.exists()


@pytest.mark.django_db
def test_footage_without_a_case_is_deleted_after_the_no_case_period(
        footage_backend, approved_request, video, django_capture_on_commit_callbacks, settings):
    Incident.objects.filter(pk=approved_request.area_request.incident_id).update(case_number="")
    AreaRequest.objects.filter(pk=approved_request.area_request_id).update(case_number="")
    submission = give(approved_request, video, django_capture_on_commit_callbacks, "clip.mp4")
    Incident.objects.filter(pk=approved_request.area_request.incident_id).update(
        updated_at=timezone.now() - timedelta(days=200))

    assert services.retention_purge(now=timezone.now() + timedelta(days=89))["evidence_purged"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert services.retention_purge(now=timezone.now() + timedelta(days=91))["evidence_purged"] == 1
    submission.refresh_from_db()
    assert submission.tombstone.rule == DeletionTombstone.Rule.NO_CASE
    assert not is_stored(evidence_name(submission))
    assert "No case was opened" in mail.outbox[-1].body


@pytest.mark.django_db
def test_receipts_whose_task_did_not_run_are_sent_by_the_run_and_the_late_tasks_send_nothing_more(
        three_files, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as queued:  # the queued receipt tasks do not run
        assert services.retention_purge()["receipts_sent"] == 3

    for task in queued:  # they run late, after the job's own sweep sent the receipts
        task()
    assert services.retention_purge()["receipts_sent"] == 0
    assert deletion_receipts_send_due() == 0
    assert sorted(message.subject for message in deletion_receipts()) == [
        f"Deleted: your video “clip-{n}.mp4”" for n in range(3)]


@pytest.mark.django_db
def test_a_failed_receipt_is_released_and_sent_by_a_later_run(three_files, django_capture_on_commit_callbacks,
                                                              settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2  # nothing listens there
    with django_capture_on_commit_callbacks(execute=True):
        counts = services.retention_purge()

    assert (counts["evidence_purged"], counts["receipts_sent"]) == (3, 0)
    unsent = DeletionTombstone.objects.filter(receipt_sent_at__isnull=True, receipt_claimed_until__isnull=True)
    assert unsent.count() == 3

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert services.retention_purge()["receipts_sent"] == 3
    assert services.retention_purge()["receipts_sent"] == 0
    assert len(deletion_receipts()) == 3


@pytest.mark.django_db
def test_the_receipt_names_the_file_its_fingerprint_size_when_and_why(
        disk_footage, approved_request, video, django_capture_on_commit_callbacks, settings):
    submission = give(approved_request, video, django_capture_on_commit_callbacks, "driveway.mp4")
    close_incident(approved_request, days_ago=settings.EVIDENCE_RETENTION_DAYS + 1)
    with django_capture_on_commit_callbacks(execute=True):
        services.retention_purge()

    receipt = mail.outbox[-1]
    submission.refresh_from_db()
    assert receipt.to == [approved_request.owner.email]
    assert receipt.subject == "Deleted: your video “driveway.mp4”"
    for fact in ["driveway.mp4", submission.sha256, f"{submission.size} bytes", "Deleted on",
                 "The case was closed, and the city keeps evidence 365 days after a case closes.",
                 approved_request.area_request.incident.reference]:
        assert fact in receipt.body


@pytest.mark.django_db
def test_the_receipt_is_in_the_owners_language(disk_footage, approved_request, video,
                                               django_capture_on_commit_callbacks, settings):
    owner = approved_request.owner
    owner.language = "es"
    owner.save(update_fields=["language"])
    give(approved_request, video, django_capture_on_commit_callbacks, "entrada.mp4")
    close_incident(approved_request, days_ago=settings.EVIDENCE_RETENTION_DAYS + 1)
    with django_capture_on_commit_callbacks(execute=True):
        services.retention_purge()

    # The dates are written the Spanish way (the sentences follow once the catalogue has them).
    deleted_at = timezone.localtime(DeletionTombstone.objects.get().deleted_at)
    with translation.override("es"):
        spanish_date = date_format(deleted_at, "DATETIME_FORMAT")
    assert spanish_date.split()[2] != "of" and spanish_date in mail.outbox[-1].body


@pytest.mark.django_db
def test_a_file_missing_from_storage_is_still_recorded_as_deleted(
        footage_backend, approved_request, video, django_capture_on_commit_callbacks, settings):
    from requests_app.storage import footage_storage

    submission = give(approved_request, video, django_capture_on_commit_callbacks, "clip.mp4")
    footage_storage().delete(evidence_name(submission))
    close_incident(approved_request, days_ago=settings.EVIDENCE_RETENTION_DAYS + 1)

    assert services.retention_purge()["evidence_purged"] == 1
    assert DeletionTombstone.objects.get().state == DeletionTombstone.State.DONE


# --- Killed midway: a real process, SIGKILLed at a chosen point, then run again ---------------------------

CHILD = """
import json, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
overrides = json.loads(os.environ["RETENTION_CHILD_SETTINGS"])
from pathlib import Path
from django.conf import settings
settings.DATABASES["default"]["NAME"] = overrides["database"]
settings.STORAGES = {**settings.STORAGES, "footage": overrides["footage"]}
settings.FOOTAGE_ROOT = Path(overrides["footage_root"])
settings.EMAIL_BACKEND = "portal.mail.OutboxBackend"
import django
django.setup()
from django_q.conf import Conf
Conf.SYNC = True  # the queued receipt is sent at once, as a worker would
from requests_app.services import retention_purge
print("result " + json.dumps(retention_purge()), flush=True)
"""


def run_job(settings, *, pause=None):
    """Run the retention job in a child process on the test database and storage. With `pause`, wait
    until the child stops at that point for the first file, SIGKILL it, and return None."""
    overrides = {"database": connection.settings_dict["NAME"], "footage": settings.STORAGES["footage"],
                 "footage_root": str(settings.FOOTAGE_ROOT)}
    environment = {**os.environ, "RETENTION_CHILD_SETTINGS": json.dumps(overrides)}
    environment.pop("PORTAL_TEST_RETENTION_PAUSE", None)
    if pause:
        environment["PORTAL_TEST_RETENTION_PAUSE"] = f"{pause}:120"
    child = subprocess.Popen([sys.executable, "-c", CHILD], cwd=ROOT, env=environment,  # noqa: S603
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watchdog = threading.Timer(90, child.kill)
    watchdog.start()
    try:
        if pause:
            line = child.stdout.readline()
            assert line.strip() == f"paused {pause}", line + child.stderr.read()
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
            assert child.returncode == -signal.SIGKILL
            return None
        output, errors = child.communicate()
    finally:
        watchdog.cancel()
    assert child.returncode == 0, errors
    return json.loads(output.strip().splitlines()[-1].removeprefix("result "))


def receipts():
    return OutboxEmail.objects.filter(subject__startswith="Deleted: your video")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("pause", "pending", "first_file_stored", "sent"), [
    ("after_tombstone", 1, True, 0),  # the tombstone is committed, the file not deleted yet
    ("after_delete", 1, False, 0),    # the file is gone, the tombstone not marked done
    ("after_done", 0, False, 1),      # the first file is finished, receipt sent; the others not started
])
def test_a_job_killed_midway_is_finished_by_the_next_run_without_repeats(three_files, settings, pause, pending,
                                                                         first_file_stored, sent):
    first, *others = three_files

    assert run_job(settings, pause=pause) is None

    assert DeletionTombstone.objects.count() == 1
    assert DeletionTombstone.objects.filter(state=DeletionTombstone.State.PENDING).count() == pending
    assert DeletionTombstone.objects.get().submission_id == first.pk
    assert is_stored(evidence_name(first)) is first_file_stored
    assert all(is_stored(evidence_name(each)) for each in others)
    assert receipts().count() == sent
    assert purged_events().count() == 1 - pending

    counts = run_job(settings)

    assert counts["evidence_purged"] == 2 and counts["deletions_finished"] == pending
    assert DeletionTombstone.objects.count() == 3
    assert set(DeletionTombstone.objects.values_list("state", flat=True)) == {DeletionTombstone.State.DONE}
    assert not any(is_stored(evidence_name(each)) for each in three_files)
    assert set(FootageSubmission.objects.values_list("status", flat=True)) == {FootageSubmission.Status.PURGED}
    assert purged_events().count() == 3
    assert receipts().count() == 3
    assert sorted(receipts().values_list("subject", flat=True)) == [
        f"Deleted: your video “clip-{n}.mp4”" for n in range(3)]
    assert not DeletionTombstone.objects.filter(receipt_sent_at__isnull=True).exists()

    assert run_job(settings) == {"requests": 0, "rejected_files": 0, "evidence_purged": 0, "deletions_finished": 0,
                                 "receipts_sent": 0}
    assert receipts().count() == 3 and purged_events().count() == 3


# --- Legal holds -----------------------------------------------------------------------------------------

@pytest.fixture
def accepted(disk_footage, approved_request, video, django_capture_on_commit_callbacks):
    return give(approved_request, video, django_capture_on_commit_callbacks, "porch.mp4")


@pytest.mark.django_db
def test_a_held_file_is_never_deleted_and_is_deleted_after_the_hold_is_lifted(accepted, supervisor, settings,
                                                                             django_capture_on_commit_callbacks):
    footage_hold_place(submission=accepted, actor=supervisor, reason="Court order 2026-114")
    close_incident(accepted.footage_request, days_ago=settings.EVIDENCE_RETENTION_DAYS * 3)

    assert services.retention_purge()["evidence_purged"] == 0
    assert is_stored(evidence_name(accepted))
    accepted.refresh_from_db()
    assert retention_state(accepted, timezone.now()).code == State.HELD

    footage_hold_lift(submission=accepted, actor=supervisor, reason="Trial over")
    with django_capture_on_commit_callbacks(execute=True):
        assert services.retention_purge()["evidence_purged"] == 1
    assert not is_stored(evidence_name(accepted))


@pytest.mark.django_db
def test_holds_are_audited_with_their_reason_and_kept_out_of_the_owners_log(accepted, supervisor):
    footage_hold_place(submission=accepted, actor=supervisor, reason="Court order 2026-114")
    footage_hold_lift(submission=accepted, actor=supervisor, reason="Trial over")

    placed = AuditEvent.objects.get(action="footage.hold_placed")
    lifted = AuditEvent.objects.get(action="footage.hold_lifted")
    assert (placed.actor, placed.details["reason"], placed.target) == (supervisor, "Court order 2026-114",
                                                                       f"submission:{accepted.pk}")
    assert (lifted.details["reason"], lifted.details["placed_for"]) == ("Trial over", "Court order 2026-114")
    owner = accepted.footage_request.owner
    assert not AuditEvent.objects.for_owner(owner).filter(action__startswith="footage.hold").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("reason", ["", "   ", "x" * 1001])
def test_a_hold_needs_a_reason_and_nothing_changes_without_one(accepted, supervisor, reason):
    with pytest.raises(ValidationError):
        footage_hold_place(submission=accepted, actor=supervisor, reason=reason)

    accepted.refresh_from_db()
    assert not accepted.is_held
    assert not AuditEvent.objects.filter(action__startswith="footage.hold").exists()


@pytest.mark.django_db
def test_a_hold_cannot_be_placed_twice_nor_lifted_when_there_is_none(accepted, supervisor):
    with pytest.raises(ValidationError, match="not on legal hold"):
        footage_hold_lift(submission=accepted, actor=supervisor, reason="why")
    footage_hold_place(submission=accepted, actor=supervisor, reason="Court order")
    with pytest.raises(ValidationError, match="already on legal hold"):
        footage_hold_place(submission=accepted, actor=supervisor, reason="again")


@pytest.mark.django_db
def test_deleted_footage_cannot_be_held(accepted, supervisor, settings, django_capture_on_commit_callbacks):
    close_incident(accepted.footage_request, days_ago=settings.EVIDENCE_RETENTION_DAYS + 1)
    services.retention_purge()

    with pytest.raises(ValidationError, match="not deleted"):
        footage_hold_place(submission=accepted, actor=supervisor, reason="Too late")


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["operator", "officer", "oversight", "resident"])
def test_only_supervisors_may_hold_footage(accepted, request, role):
    with pytest.raises(PermissionDenied):
        footage_hold_place(submission=accepted, actor=request.getfixturevalue(role), reason="Court order")


# The hold page, for every role: GET and POST.
ROLES = {"anonymous": 302, "resident": 403, "business": 403, "operator": 403, "officer": 403, "oversight": 403,
         "supervisor": 200}


def client_as(client, request, login, role):
    if role != "anonymous":
        login(client, request.getfixturevalue(role))
    return client


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "expected"), ROLES.items())
def test_the_hold_page_is_for_supervisors(client, request, login, accepted, role, expected):
    incident = accepted.footage_request.area_request.incident
    if role == "officer":
        incident.assigned_officers.add(request.getfixturevalue("officer"))
    client = client_as(client, request, login, role)
    url = f"/staff/evidence/{accepted.pk}/hold/"

    assert client.get(url).status_code == expected
    response = client.post(url, {"action": "place", "reason": "Court order 2026-114"})

    accepted.refresh_from_db()
    assert accepted.is_held is (role == "supervisor")
    assert response.status_code == (302 if role == "supervisor" else expected)
    assert AuditEvent.objects.filter(action="footage.hold_placed").count() == (role == "supervisor")


@pytest.mark.django_db
def test_a_supervisor_places_and_lifts_a_hold_from_the_incident_page(client, login, accepted, supervisor):
    login(client, supervisor)
    incident_url = f"/staff/incidents/{accepted.footage_request.area_request.incident_id}/"
    assert "Place a legal hold" in client.get(incident_url).content.decode()

    response = client.post(f"/staff/evidence/{accepted.pk}/hold/", {"action": "place", "reason": ""})
    assert response.status_code == 200 and "This field is required." in response.content.decode()

    client.post(f"/staff/evidence/{accepted.pk}/hold/", {"action": "place", "reason": "Court order 2026-114"})
    page = client.get(incident_url).content.decode()
    assert "On legal hold" in page and "Court order 2026-114" in page and "Lift the hold" in page

    response = client.post(f"/staff/evidence/{accepted.pk}/hold/", {"action": "lift", "reason": "Trial over"})
    assert response.status_code == 302
    accepted.refresh_from_db()
    assert not accepted.is_held and accepted.hold_lifted_at is not None


@pytest.mark.django_db
def test_operators_see_the_retention_state_but_no_hold_link(client, login, accepted, operator):
    login(client, operator)
    page = client.get(f"/staff/incidents/{accepted.footage_request.area_request.incident_id}/").content.decode()

    assert "Kept for an open case" in page
    assert "Place a legal hold" not in page


# --- What the owner sees ---------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_owner_sees_a_held_file_as_kept_for_an_open_case_without_the_reason(client, login, accepted, supervisor,
                                                                              settings):
    close_incident(accepted.footage_request, days_ago=settings.EVIDENCE_RETENTION_DAYS + 1)
    footage_hold_place(submission=accepted, actor=supervisor, reason="Sealed grand jury matter")
    login(client, accepted.footage_request.owner)

    page = client.get("/dashboard/").content.decode()

    assert "porch.mp4" in page and "Kept for an open case" in page
    assert "Sealed grand jury matter" not in page and "legal hold" not in page.lower()


@pytest.mark.django_db
def test_the_owner_sees_each_files_deletion_date_and_then_its_deletion(client, login, accepted, settings,
                                                                      django_capture_on_commit_callbacks):
    owner = accepted.footage_request.owner
    close_incident(accepted.footage_request, days_ago=10)
    login(client, owner)

    page = client.get("/dashboard/").content.decode()
    deletion = timezone.localtime(Incident.objects.get().closed_at + timedelta(days=settings.EVIDENCE_RETENTION_DAYS))
    assert f"Scheduled for deletion on {date_format(deletion, 'DATE_FORMAT')}" in page

    with django_capture_on_commit_callbacks(execute=True):
        services.retention_purge(now=timezone.now() + timedelta(days=settings.EVIDENCE_RETENTION_DAYS))
    page = client.get("/dashboard/").content.decode()
    assert "Deleted on" in page and "receipt sent" in page


@pytest.mark.django_db
def test_owners_do_not_see_each_others_files(client, login, accepted, other_owner):
    login(client, other_owner)

    page = client.get("/dashboard/").content.decode()

    assert "porch.mp4" not in page and "You have not given any footage." in page


@pytest.mark.django_db
def test_the_admin_lists_each_files_retention_state(client, login, accepted, supervisor, settings):
    close_incident(accepted.footage_request, days_ago=10)
    login(client, supervisor)

    page = client.get("/admin/requests_app/footagesubmission/").content.decode()

    assert "porch.mp4" in page and "Scheduled for deletion · " in page
