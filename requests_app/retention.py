"""How long footage owners gave is kept, and its deletion: the rules, legal holds and deletion receipts.

``retention_state(submission, now)`` is the one place that reads the rules. The daily job
(``retention_purge`` in services.py), the owner's dashboard and the staff pages all ask it, so what an
owner is told is what the job does. The rules, for a file police accepted:

- a supervisor's **legal hold** keeps it, whatever else applies;
- footage of an incident **without a case** — neither the incident nor the area request it was given
  for carries a case number, so nobody opened an investigation — is deleted RETENTION_NO_CASE_DAYS
  after its last activity: the latest of its acceptance, the incident's last update and a lifted hold;
- footage of a **case** is kept while the incident is open, and deleted EVIDENCE_RETENTION_DAYS after
  the incident closed.

Deleting is crash-safe: a tombstone (what is deleted, its SHA-256, size and rule) is committed before
the file goes, the file is deleted, then the tombstone is marked done with the audit entry, and the
owner's receipt is sent once (see DeletionTombstone).
"""

import logging
import os
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.audit import audit_record
from requests_app.models import DeletionTombstone, FootageSubmission
from requests_app.storage import footage_storage, storage_errors

logger = logging.getLogger(__name__)

# How long a worker owns a receipt it is sending; after that a rerun may send it (the worker died).
RECEIPT_LEASE = timedelta(minutes=10)
HOLD_REASON_MAX = 1000


# --- The rules --------------------------------------------------------------------------------------

class State:
    BEING_CHECKED = "being_checked"
    NOT_USED = "not_used"
    HELD = "held"
    KEPT_OPEN_CASE = "kept_open_case"
    SCHEDULED = "scheduled"
    DUE = "due"
    DELETING = "deleting"
    DELETED = "deleted"


STAFF_LABELS = {
    State.BEING_CHECKED: gettext_lazy("Being checked"),
    State.NOT_USED: gettext_lazy("Could not be used — deleted"),
    State.HELD: gettext_lazy("On legal hold"),
    State.KEPT_OPEN_CASE: gettext_lazy("Kept for an open case"),
    State.SCHEDULED: gettext_lazy("Scheduled for deletion"),
    State.DUE: gettext_lazy("Being deleted"),
    State.DELETING: gettext_lazy("Being deleted"),
    State.DELETED: gettext_lazy("Deleted"),
}


@dataclass(frozen=True)
class RetentionState:
    """Where a file stands. `deletion_date`: when it is (or was) deleted, or None while it is kept."""

    code: str
    deletion_date: datetime | None = None
    rule: str = ""
    receipt_sent: bool = False

    @property
    def is_kept(self):
        """Kept with no date: on hold, or for an open case (owners see both as "kept for an open case")."""
        return self.code in (State.HELD, State.KEPT_OPEN_CASE)

    @property
    def staff_label(self):
        return STAFF_LABELS[self.code]


def has_case(submission):
    """Whether the footage was given for a case: its incident or its area request has a case number."""
    area_request = submission.footage_request.area_request
    return bool(area_request.incident.case_number.strip() or area_request.case_number.strip())


def retention_state(submission, now):
    """The retention state of one submission at `now`. Reads only the submission, its tombstone and its
    request's incident (use FootageSubmission.objects.given_by() or select_related for lists)."""
    from incidents.models import Incident

    tombstone = _tombstone(submission)
    if tombstone is not None:
        if tombstone.state == DeletionTombstone.State.DONE:
            return RetentionState(State.DELETED, tombstone.deleted_at, tombstone.rule,
                                  receipt_sent=tombstone.receipt_sent_at is not None)
        return RetentionState(State.DELETING, tombstone.created_at, tombstone.rule)
    status = submission.status
    if status == FootageSubmission.Status.PURGED:  # deleted before tombstones existed
        return RetentionState(State.DELETED, None, DeletionTombstone.Rule.EVIDENCE_RETENTION)
    if status == FootageSubmission.Status.PROCESSING:
        return RetentionState(State.BEING_CHECKED)
    if status == FootageSubmission.Status.REJECTED:
        return RetentionState(State.NOT_USED)
    if submission.is_held:
        return RetentionState(State.HELD)
    incident = submission.footage_request.area_request.incident
    if not has_case(submission):
        activity = [submission.processed_at or submission.created_at, incident.updated_at, submission.hold_lifted_at]
        deletion_date = max(moment for moment in activity if moment) + timedelta(days=settings.RETENTION_NO_CASE_DAYS)
        rule = DeletionTombstone.Rule.NO_CASE
    elif incident.status == Incident.Status.OPEN:
        return RetentionState(State.KEPT_OPEN_CASE)
    else:
        closed_at = incident.closed_at or incident.updated_at
        deletion_date = closed_at + timedelta(days=settings.EVIDENCE_RETENTION_DAYS)
        rule = DeletionTombstone.Rule.EVIDENCE_RETENTION
    return RetentionState(State.DUE if deletion_date <= now else State.SCHEDULED, deletion_date, rule)


def rule_days(rule):
    """The period, in days, of a rule as configured now."""
    if rule == DeletionTombstone.Rule.NO_CASE:
        return settings.RETENTION_NO_CASE_DAYS
    return settings.EVIDENCE_RETENTION_DAYS


def _tombstone(submission):
    try:
        return submission.tombstone
    except DeletionTombstone.DoesNotExist:
        return None


def with_retention(submissions, now=None):
    """The submissions as a list, each with `.retention` (its RetentionState) for the templates."""
    now = now or timezone.now()
    submissions = list(submissions)
    for submission in submissions:
        submission.retention = retention_state(submission, now)
    return submissions


# --- Deleting -----------------------------------------------------------------------------------------

def footage_deletions_run(*, now):
    """Finish the deletions a crashed run left pending, delete every file now due, and send the receipts
    still owed. Returns (files deleted, pending deletions finished, receipts sent). Safe to run again."""
    finished = 0
    for tombstone_id in list(DeletionTombstone.objects.filter(state=DeletionTombstone.State.PENDING)
                             .order_by("pk").values_list("pk", flat=True)):
        finished += _deletion_finish(tombstone_id)
    deleted = 0
    candidates = FootageSubmission.objects.retention_candidates().order_by("pk").values_list("pk", flat=True)
    for submission_id in list(candidates):
        tombstone = _tombstone_write(submission_id, now=now)
        if tombstone is not None:
            deleted += _deletion_finish(tombstone.pk)
    return deleted, finished, deletion_receipts_send_due()


def _tombstone_write(submission_id, *, now):
    """Record what is about to be deleted, in a transaction of its own; None if the file is not due."""
    with transaction.atomic():
        submission = (FootageSubmission.objects.select_for_update()
                      .select_related("footage_request__area_request__incident").get(pk=submission_id))
        state = retention_state(submission, now)
        if state.code != State.DUE:
            return None
        from requests_app.submissions import evidence_name

        tombstone = DeletionTombstone.objects.create(
            submission=submission, stored_name=evidence_name(submission), original_name=submission.original_name,
            sha256=submission.sha256, size=submission.size, rule=state.rule, retention_days=rule_days(state.rule))
    _test_pause("after_tombstone")
    return tombstone


def _deletion_finish(tombstone_id):
    """Delete a pending tombstone's file (again, if a crash came after), then mark it done with its audit
    entry and queue the receipt. Returns 1 if this call finished it, 0 if it was done already or the
    store failed (the tombstone stays pending for the next run)."""
    tombstone = DeletionTombstone.objects.get(pk=tombstone_id)
    if tombstone.state == DeletionTombstone.State.DONE:
        return 0
    try:
        footage_storage().delete(tombstone.stored_name)  # no error if it is gone already
    except FileNotFoundError:
        pass
    except storage_errors() as error:
        logger.error("Retention: could not delete %s (submission %s): %s", tombstone.stored_name,
                     tombstone.submission_id, error)
        return 0
    _test_pause("after_delete")
    with transaction.atomic():
        tombstone = (DeletionTombstone.objects.select_for_update()
                     .select_related("submission__footage_request__area_request__incident").get(pk=tombstone_id))
        if tombstone.state == DeletionTombstone.State.DONE:
            return 0
        tombstone.state, tombstone.deleted_at = DeletionTombstone.State.DONE, timezone.now()
        tombstone.save(update_fields=["state", "deleted_at"])
        FootageSubmission.objects.filter(pk=tombstone.submission_id).update(status=FootageSubmission.Status.PURGED)
        footage_request = tombstone.submission.footage_request
        audit_record(action="footage.purged", target=f"submission:{tombstone.submission_id}",
                     **footage_request.audit_subject(),
                     incident_reference=footage_request.area_request.incident.reference,
                     details={"sha256": tombstone.sha256, "size": tombstone.size, "name": tombstone.original_name,
                              "rule": tombstone.rule, "retention_days": tombstone.retention_days})
        transaction.on_commit(lambda: _queue_receipt(tombstone_id), robust=True)  # the purge is done either way
    _test_pause("after_done")
    return 1


def _queue_receipt(tombstone_id):
    from django_q.tasks import async_task

    async_task("requests_app.tasks.send_deletion_receipt", tombstone_id, task_name=f"deletion-receipt-{tombstone_id}")


def _test_pause(point):
    # The crash tests (requests_app/tests/test_retention.py) stop a run here and kill it: they set
    # PORTAL_TEST_RETENTION_PAUSE="<point>:<seconds>". Never set in production.
    wanted = os.environ.get("PORTAL_TEST_RETENTION_PAUSE", "")
    if wanted.partition(":")[0] == point:
        print(f"paused {point}", file=sys.stdout, flush=True)
        time.sleep(float(wanted.partition(":")[2] or 60))


# --- Receipts -------------------------------------------------------------------------------------------

def deletion_receipt_send(*, tombstone_id):
    """E-mail the owner what was deleted and why, once. Returns whether this call sent it.

    The receipt is claimed (a conditional UPDATE with a lease), sent, then marked sent: two runs never both
    send it. A worker killed between the SMTP server's acceptance and the mark (milliseconds) would lead
    to one repeat after the lease; a failed send is released and sent by the next run.
    """
    now = timezone.now()
    claimed = _receipts_due(now).filter(pk=tombstone_id).update(receipt_claimed_until=now + RECEIPT_LEASE)
    if not claimed:
        return False
    tombstone = (DeletionTombstone.objects
                 .select_related("submission__footage_request__owner",
                                 "submission__footage_request__area_request__incident")
                 .get(pk=tombstone_id))
    owner = tombstone.submission.footage_request.owner
    try:
        _receipt_email(tombstone, owner)
    except Exception as error:  # any SMTP or network failure: the next run sends it
        logger.warning("Deletion receipt %s failed: %s", tombstone_id, error)
        DeletionTombstone.objects.filter(pk=tombstone_id).update(receipt_claimed_until=None)
        return False
    DeletionTombstone.objects.filter(pk=tombstone_id).update(receipt_sent_at=timezone.now(), receipt_to=owner.email)
    return True


def deletion_receipts_send_due():
    """Receipts owed and not being sent (their task was lost, or failed): send them. Returns how many."""
    due = _receipts_due(timezone.now()).order_by("pk").values_list("pk", flat=True)
    return sum(deletion_receipt_send(tombstone_id=tombstone_id) for tombstone_id in list(due))


def _receipts_due(now):
    free = Q(receipt_claimed_until__isnull=True) | Q(receipt_claimed_until__lte=now)
    return DeletionTombstone.objects.filter(free, state=DeletionTombstone.State.DONE, receipt_sent_at__isnull=True)


def _receipt_email(tombstone, owner):
    incident = tombstone.submission.footage_request.area_request.incident
    context = {"tombstone": tombstone, "owner": owner, "incident": incident,
               "no_case": tombstone.rule == DeletionTombstone.Rule.NO_CASE,
               "CITY_NAME": settings.CITY_NAME, "PROGRAM_NAME": settings.PROGRAM_NAME}
    with translation.override(owner.language or settings.LANGUAGE_CODE):
        subject = _("Deleted: your video “%(name)s”") % {"name": tombstone.original_name}
        body = render_to_string("requests_app/email/deletion_receipt.txt", context)
    send_mail(subject, body, None, [owner.email])


# --- Legal holds -------------------------------------------------------------------------------------------

def _hold_reason(reason):
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason: it is kept in the audit log.")})
    if len(reason) > HOLD_REASON_MAX:
        raise ValidationError({"reason": _("Keep the reason under %(max)s characters.") % {"max": HOLD_REASON_MAX}})
    return reason


def _locked(submission):
    return (FootageSubmission.objects.select_for_update()
            .select_related("footage_request__area_request__incident").get(pk=submission.pk))


def _require_hold_permission(actor):
    if not actor.has_perm("requests_app.hold_footage"):
        raise PermissionDenied(_("Only supervisors place and lift legal holds."))


@transaction.atomic
def footage_hold_place(*, submission, actor, reason, ip_address=None):
    """A supervisor keeps a file from deletion until the hold is lifted; audited with the reason."""
    _require_hold_permission(actor)
    reason = _hold_reason(reason)
    submission = _locked(submission)
    if _tombstone(submission) is not None or submission.status != FootageSubmission.Status.ACCEPTED:
        raise ValidationError(_("Only accepted footage that is not deleted can be held."))
    if submission.is_held:
        raise ValidationError(_("This footage is already on legal hold."))
    submission.hold_reason, submission.held_by, submission.held_at = reason, actor, timezone.now()
    submission.save(update_fields=["hold_reason", "held_by", "held_at"])
    _audit_hold(submission, "footage.hold_placed", actor, reason, ip_address)
    return submission


@transaction.atomic
def footage_hold_lift(*, submission, actor, reason, ip_address=None):
    """Lift a hold: the retention rules apply again (for footage without a case, counted from now)."""
    _require_hold_permission(actor)
    reason = _hold_reason(reason)
    submission = _locked(submission)
    if not submission.is_held:
        raise ValidationError(_("This footage is not on legal hold."))
    placed = submission.hold_reason
    submission.hold_reason, submission.held_by, submission.held_at = "", None, None
    submission.hold_lifted_at = timezone.now()
    submission.save(update_fields=["hold_reason", "held_by", "held_at", "hold_lifted_at"])
    _audit_hold(submission, "footage.hold_lifted", actor, reason, ip_address, placed_for=placed)
    return submission


def _audit_hold(submission, action, actor, reason, ip_address, **extra):
    # Staff-only events: no camera_owner, so the reason never reaches the owner's access log.
    audit_record(action=action, actor=actor, target=f"submission:{submission.pk}", ip_address=ip_address,
                 incident_reference=submission.footage_request.area_request.incident.reference,
                 details={"reason": reason, "sha256": submission.sha256, **extra})
