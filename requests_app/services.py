"""Writes for area requests and per-owner footage requests: creation, approval, e-mail, answers."""

import logging
import math
import uuid
from collections import defaultdict
from datetime import timedelta
from email.utils import make_msgid

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cameras.models import Camera
from cameras.search import staff_camera_results
from incidents.realtime import publish_incident_event
from portal.audit import audit_record
from portal.models import AuditEvent
from requests_app.models import AreaRequest, FootageRequest
from requests_app.tokens import new_token

logger = logging.getLogger(__name__)

# How long a worker owns the e-mails it claimed. It starts hand-offs only in the first half, so
# the last one has 2.5 minutes (five EMAIL_TIMEOUTs by default) to end; and the lease is shorter
# than django-q2's retry, so a retried task finds its e-mails free.
EMAIL_SENDING_LEASE = timedelta(minutes=5)
# E-mails a worker claims at once: one claim (a transaction) per batch, then one UPDATE per e-mail.
EMAIL_BATCH_SIZE = 100
# A queued e-mail older than this has no fan-out task coming for it any more: the retry job sends it.
EMAIL_FAN_OUT_GRACE = timedelta(minutes=10)


# --- Limits and preview ---------------------------------------------------------------------

def area_request_check(*, incident, radius_m, window_start, window_end, case_number):
    """Validate a request; return the city limits it exceeds (each needs a supervisor's approval).

    Raises ValidationError for what no approval can fix: a blocked incident type, a missing case
    number where one is required, an empty or reversed time window.
    """
    errors = {}
    if incident.incident_type in settings.AREA_REQUEST_BLOCKED_TYPES:
        errors["incident"] = _("The city does not allow area requests for %(type)s incidents.") % {
            "type": incident.get_incident_type_display()}
    if settings.AREA_REQUEST_CASE_NUMBER_REQUIRED and not (case_number or "").strip():
        errors["case_number"] = _("A case number is required before owners can be asked for footage.")
    if radius_m <= 0:
        errors["radius_m"] = _("Choose a radius larger than zero.")
    if window_end <= window_start:
        errors["window_end"] = _("The time window must end after it starts.")
    elif window_start > timezone.now():
        errors["window_start"] = _("The time window cannot start in the future: owners cannot have that footage.")
    if errors:
        raise ValidationError(errors)
    over = []
    if radius_m > settings.AREA_REQUEST_MAX_RADIUS_M:
        over.append(_("The radius of %(radius)s m is larger than the city's limit of %(limit)s m.") % {
            "radius": radius_m, "limit": settings.AREA_REQUEST_MAX_RADIUS_M})
    hours = (window_end - window_start).total_seconds() / 3600
    if hours > settings.AREA_REQUEST_MAX_WINDOW_HOURS:
        over.append(_("The time window of %(hours).1f hours is longer than the city's limit of %(limit)s hours.") % {
            "hours": hours, "limit": settings.AREA_REQUEST_MAX_WINDOW_HOURS})
    return [str(reason) for reason in over]


def area_request_preview(*, latitude, longitude, radius_m):
    """Who would be asked: the cameras in the circle grouped by owner, and who will not be and why."""
    cameras = staff_camera_results(latitude, longitude, radius_m)
    by_owner = defaultdict(list)
    for camera in cameras:
        by_owner[camera["owner_id"]].append(camera)
    asked, not_asked = {}, {}
    for owner_id, owned in by_owner.items():
        available = [camera for camera in owned if camera["available_for_requests"]]
        if available:
            asked[owner_id] = available
        else:
            not_asked[owner_id] = {"owner_name": owned[0]["owner_name"], "reason": owned[0]["unavailable_reason"],
                                   "cameras": len(owned)}
    counts = {"cameras": len(cameras), "integrated": sum(c["access_level"] == "integrated" for c in cameras),
              "registered": sum(c["access_level"] == "registered" for c in cameras),
              "owners_asked": len(asked), "owners_not_asked": len(not_asked)}
    return {"cameras": cameras, "asked": asked, "not_asked": list(not_asked.values()), "counts": counts}


# --- Creating, approving, fanning out ---------------------------------------------------------

@transaction.atomic
def area_request_create(*, incident, sender, latitude, longitude, radius_m, window_start, window_end, message="",
                        case_number="", ip_address=None):
    """Create an area request; send it at once within the limits, else queue it for a supervisor."""
    if not sender.has_perm("requests_app.send_arearequest"):
        raise PermissionDenied(_("Your role cannot send area requests."))
    case_number = (case_number or incident.case_number or "").strip()
    over = area_request_check(incident=incident, radius_m=radius_m, window_start=window_start,
                              window_end=window_end, case_number=case_number)
    needs_approval = bool(over) and not sender.has_perm("requests_app.approve_arearequest")
    area_request = AreaRequest.objects.create(
        incident=incident, latitude=latitude, longitude=longitude, radius_m=radius_m, window_start=window_start,
        window_end=window_end, message=message.strip(), case_number=case_number, sender=sender, over_limits=over,
        status=AreaRequest.Status.AWAITING_APPROVAL if needs_approval else AreaRequest.Status.SENT,
    )
    audit_record(action="area_request.created", actor=sender, target=f"area_request:{area_request.pk}",
                 incident_reference=incident.reference, ip_address=ip_address,
                 details={"radius_m": radius_m, "over_limits": over, "status": area_request.status})
    if not needs_approval:
        _fan_out(area_request, ip_address=ip_address)
    return area_request


@transaction.atomic
def area_request_decide(*, area_request, supervisor, approve, note="", ip_address=None):
    """A supervisor approves (and so sends) or rejects a request above the limits."""
    if not supervisor.has_perm("requests_app.approve_arearequest"):
        raise PermissionDenied(_("Only supervisors approve requests above the city's limits."))
    area_request = AreaRequest.objects.select_for_update().get(pk=area_request.pk)
    if area_request.status != AreaRequest.Status.AWAITING_APPROVAL:
        raise ValidationError(_("This request was already decided."))
    area_request.status = AreaRequest.Status.SENT if approve else AreaRequest.Status.REJECTED
    area_request.decided_by, area_request.decided_at, area_request.decision_note = supervisor, timezone.now(), note
    area_request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    audit_record(action="area_request.approved" if approve else "area_request.rejected", actor=supervisor,
                 target=f"area_request:{area_request.pk}", incident_reference=area_request.incident.reference,
                 ip_address=ip_address, details={"note": note})
    if approve:
        _fan_out(area_request, ip_address=ip_address)
    return area_request


def _fan_out(area_request, *, ip_address=None):
    """One FootageRequest per owner with cameras in the circle; e-mails go out from a worker."""
    preview = area_request_preview(latitude=area_request.latitude, longitude=area_request.longitude,
                                   radius_m=area_request.radius_m)
    expires_at = timezone.now() + timedelta(days=settings.FOOTAGE_REQUEST_EXPIRY_DAYS)
    cameras_by_id = Camera.objects.in_bulk([c["id"] for owned in preview["asked"].values() for c in owned])
    for owner_id, owned in preview["asked"].items():
        footage_request = FootageRequest.objects.create(
            area_request=area_request, owner_id=owner_id, expires_at=expires_at,
            camera_names=[camera["name"] for camera in owned], email_message_id=make_msgid(domain="camera-portal"))
        footage_request.cameras.set([cameras_by_id[camera["id"]] for camera in owned])
        for camera in owned:
            audit_record(action="request.sent", actor=area_request.sender, camera=cameras_by_id[camera["id"]],
                         target=f"footage_request:{footage_request.pk}",
                         incident_reference=area_request.incident.reference, ip_address=ip_address)
    area_request_id, owners = area_request.pk, len(preview["asked"])
    # robust: if the broker (Redis with TASKS_ON_REDIS) is away, the e-mails stay queued and the retry job
    # sends them after EMAIL_FAN_OUT_GRACE; the request itself is committed and must not fail.
    transaction.on_commit(lambda: _queue_emails(area_request_id, owners=owners), robust=True)
    publish_incident_event(area_request.incident, "requests_sent", area_request=area_request.pk,
                           owners=len(preview["asked"]))


def _queue_emails(area_request_id, *, owners):
    """One e-mail task per batch of owners. Each claims batches until none is due, so every free worker
    on every host joins in (a cluster may hold a queued task back while its worker is busy; more tasks
    than workers keep that from idling the others), and the last tasks find nothing left and end."""
    from django_q.tasks import async_task

    for number in range(1, math.ceil(owners / EMAIL_BATCH_SIZE) + 1):
        async_task("requests_app.tasks.send_area_request_emails", area_request_id,
                   task_name=f"area-request-{area_request_id}-emails-{number}",
                   group=f"area-request-{area_request_id}-emails")


# --- E-mail, exactly once per owner ---------------------------------------------------------------

def area_request_emails_send(*, area_request_id):
    """E-mail the owners of one area request whose e-mail is due; returns how many were sent.

    The fan-out queues one such task per batch and free workers run them at once: each claims its own
    batches (see _emails_claim), so they share the work and never send the same e-mail. Safe to
    run again at any time: an owner marked "sent" is never e-mailed again.
    """
    return _emails_send(FootageRequest.objects.filter(area_request_id=area_request_id), overdue_only=False)


def footage_request_emails_retry():
    """The retry job: e-mails whose back-off has passed, those a crashed worker left "sending" (once
    its lease ran out), and queued ones whose fan-out task never ran. Returns how many were sent."""
    return _emails_send(FootageRequest.objects.all(), overdue_only=True)


def _emails_send(footage_requests, *, overdue_only):
    sent = 0
    while True:
        claimed, lease_ends = _emails_claim(footage_requests, overdue_only=overdue_only, limit=EMAIL_BATCH_SIZE)
        if not claimed:
            return sent
        sent += _emails_deliver(claimed, lease_ends=lease_ends)


@transaction.atomic
def _emails_claim(footage_requests, *, overdue_only, limit):
    """Mark up to `limit` due e-mails "sending", under one claim and lease, and commit; returns the
    claimed footage requests and the lease's end.

    The state moves queued → sending (committed, with the lease) → sent (with the link's token).
    While the lease runs no other worker claims the e-mail, so two workers never both send it. A
    worker killed before the SMTP hand-off leaves it "sending", and a claim after the lease sends
    it; one killed between the SMTP server's acceptance and the commit of "sent" (a window of
    milliseconds) leads to one repeat, with the same Message-ID so mail clients can fold it.

    The claim is one conditional UPDATE (only rows still due change) that stamps the rows with a
    new claim id, and the rows read back are those carrying it: whatever another worker did
    meanwhile, each e-mail has one claimer. On PostgreSQL the candidates are locked with SKIP
    LOCKED, so concurrent workers take disjoint batches without waiting for each other; on SQLite
    the transaction holds the database's one write lock from its start (transaction_mode
    IMMEDIATE), so claims take turns.
    """
    now = timezone.now()  # read inside the transaction: on SQLite, after waiting for the write lock
    if overdue_only:
        due = footage_requests.email_overdue(now, fan_out_grace=EMAIL_FAN_OUT_GRACE)
    else:
        due = footage_requests.email_due(now)
    pks = list(due.select_for_update(skip_locked=True).order_by("pk").values_list("pk", flat=True)[:limit])
    if not pks:
        return [], None
    claim, lease_ends = uuid.uuid4(), now + EMAIL_SENDING_LEASE
    due.filter(pk__in=pks).update(email_state=FootageRequest.EmailState.SENDING, email_claim=claim,
                                  email_next_attempt_at=lease_ends, email_attempts=F("email_attempts") + 1)
    claimed = list(FootageRequest.objects.filter(pk__in=pks, email_claim=claim)
                   .select_related("owner", "area_request__incident", "area_request__sender").order_by("pk"))
    for footage_request in claimed:
        if not footage_request.email_message_id:  # made without one (the fan-out gives one): fixed before any send
            footage_request.email_message_id = make_msgid(domain="camera-portal")
            FootageRequest.objects.filter(pk=footage_request.pk).update(
                email_message_id=footage_request.email_message_id)
    return claimed, lease_ends


def _emails_deliver(claimed, *, lease_ends):
    """Hand the claimed e-mails to the SMTP server over one connection; record each outcome at once.

    Each e-mail carries a fresh link token, stored with the "sent" mark: a link whose e-mail was
    not recorded as sent never opens the request, and the repeat carries a new one.
    """
    last_start = lease_ends - EMAIL_SENDING_LEASE / 2
    sent = 0
    connection = get_connection()
    try:
        for index, footage_request in enumerate(claimed):
            if index and timezone.now() > last_start:
                break  # a very slow server: the rest stay "sending" and a claim after the lease sends them
            token, hashed = new_token()
            try:
                connection.open()  # does nothing while the connection is open
                message = _footage_request_email(footage_request, token)
                message.connection = connection
                message.send()
            except Exception as error:  # any SMTP or network failure: record it and retry later
                _email_failed(footage_request, error)
                connection.close()  # the next e-mail starts on a fresh connection
                continue
            _claimed(footage_request).update(
                email_state=FootageRequest.EmailState.SENT, token_hash=hashed, email_sent_at=timezone.now(),
                email_last_error="", email_next_attempt_at=None)
            sent += 1
    finally:
        connection.close()
    return sent


def _claimed(footage_request):
    # The row as long as this worker's claim holds: if the lease ran out and another worker
    # claimed it since, that worker's outcome stands.
    return FootageRequest.objects.filter(pk=footage_request.pk, email_claim=footage_request.email_claim)


def _email_failed(footage_request, error):
    attempts = footage_request.email_attempts
    gave_up = attempts >= settings.FOOTAGE_REQUEST_EMAIL_MAX_ATTEMPTS
    _claimed(footage_request).update(
        email_state=FootageRequest.EmailState.GAVE_UP if gave_up else FootageRequest.EmailState.FAILED,
        email_last_error=f"{type(error).__name__}: {error}"[:500],
        email_next_attempt_at=None if gave_up else timezone.now() + timedelta(minutes=2 ** attempts))
    logger.warning("Footage request %s e-mail failed (attempt %s): %s", footage_request.pk, attempts, error)


def _footage_request_email(footage_request, token, reminder=False):
    owner = footage_request.owner
    link = f"{settings.SITE_URL.rstrip('/')}/r/{token}/"
    context = {"footage_request": footage_request, "area_request": footage_request.area_request,
               "incident": footage_request.area_request.incident, "owner": owner, "link": link,
               "reminder": reminder, "CITY_NAME": settings.CITY_NAME, "PROGRAM_NAME": settings.PROGRAM_NAME}
    with translation.override(owner.language or settings.LANGUAGE_CODE):
        subject = _("%(city)s police ask for camera footage near you") % {"city": settings.CITY_NAME}
        if reminder:
            subject = _("Reminder: %(subject)s") % {"subject": subject}
        text = render_to_string("requests_app/email/footage_request.txt", context)
        html = render_to_string("requests_app/email/footage_request.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[owner.email],
                                     headers={"Message-ID": footage_request.email_message_id})
    message.attach_alternative(html, "text/html")
    return message


# --- The owner's answer -------------------------------------------------------------------------

@transaction.atomic
def footage_request_open(*, footage_request, ip_address=None):
    """The owner opened the link (or the request on the dashboard) for the first time."""
    footage_request = FootageRequest.objects.select_for_update().get(pk=footage_request.pk)
    if footage_request.status == FootageRequest.Status.PENDING:
        footage_request.status, footage_request.opened_at = FootageRequest.Status.OPENED, timezone.now()
        footage_request.save(update_fields=["status", "opened_at"])
        _audit_answer(footage_request, "request.opened", ip_address)
        _publish_status(footage_request)
    return footage_request


def _publish_status(footage_request):
    publish_incident_event(footage_request.area_request.incident, "request_status",
                           footage_request=footage_request.pk, owner=footage_request.owner.display_name,
                           status=footage_request.status, status_label=str(footage_request.get_status_display()))


def _audit_answer(footage_request, action, ip_address, **extra):
    audit_record(action=action, actor=footage_request.owner, **footage_request.audit_subject(),
                 target=f"footage_request:{footage_request.pk}",
                 incident_reference=footage_request.area_request.incident.reference, ip_address=ip_address, **extra)


def _answerable(footage_request):
    if footage_request.expires_at <= timezone.now() or footage_request.status == FootageRequest.Status.EXPIRED:
        raise ValidationError(_("This request has expired; police can no longer receive footage for it."))
    if footage_request.status in (FootageRequest.Status.APPROVED, FootageRequest.Status.DECLINED):
        raise ValidationError(_("You already answered this request."))


@transaction.atomic
def footage_request_approve(*, footage_request, ip_address=None):
    footage_request = FootageRequest.objects.select_for_update().get(pk=footage_request.pk)
    _answerable(footage_request)
    footage_request.status, footage_request.answered_at = FootageRequest.Status.APPROVED, timezone.now()
    footage_request.save(update_fields=["status", "answered_at"])
    _audit_answer(footage_request, "request.approved", ip_address, outcome=AuditEvent.Outcome.DONE)
    _publish_status(footage_request)
    return footage_request


@transaction.atomic
def footage_request_decline(*, footage_request, reason="", no_footage=False, ip_address=None):
    footage_request = FootageRequest.objects.select_for_update().get(pk=footage_request.pk)
    _answerable(footage_request)
    footage_request.status, footage_request.answered_at = FootageRequest.Status.DECLINED, timezone.now()
    footage_request.decline_reason = _("I have no footage of that time.") if no_footage else reason.strip()[:1000]
    footage_request.save(update_fields=["status", "answered_at", "decline_reason"])
    _audit_answer(footage_request, "request.declined", ip_address, details={"no_footage": no_footage})
    _publish_status(footage_request)
    return footage_request


def footage_requests_expire(*, now=None):
    """Mark unanswered requests past their expiry; returns how many. Idempotent."""
    now = now or timezone.now()
    return FootageRequest.objects.filter(
        status__in=[FootageRequest.Status.PENDING, FootageRequest.Status.OPENED], expires_at__lte=now,
    ).update(status=FootageRequest.Status.EXPIRED, token_hash=None)


# --- Reminders and retention ------------------------------------------------------------------------

def footage_requests_remind(*, now=None):
    """E-mail once more the owners who have not answered after FOOTAGE_REQUEST_REMINDER_HOURS.

    The reminder carries a fresh link (only the hash of a token is kept, so the first one cannot
    be sent again); the earlier link stops working. Returns how many reminders went out.
    """
    now = now or timezone.now()
    due = FootageRequest.objects.filter(
        status__in=[FootageRequest.Status.PENDING, FootageRequest.Status.OPENED], reminder_sent_at__isnull=True,
        email_state=FootageRequest.EmailState.SENT, expires_at__gt=now,
        email_sent_at__lte=now - timedelta(hours=settings.FOOTAGE_REQUEST_REMINDER_HOURS),
    ).values_list("pk", flat=True)
    sent = 0
    for pk in list(due):
        with transaction.atomic():
            footage_request = (FootageRequest.objects.select_for_update()
                               .select_related("owner", "area_request__incident", "area_request__sender").get(pk=pk))
            if footage_request.reminder_sent_at is not None:
                continue
            token, footage_request.token_hash = new_token()
            footage_request.reminder_sent_at = now
            footage_request.save(update_fields=["token_hash", "reminder_sent_at"])
        try:
            _footage_request_email(footage_request, token, reminder=True).send()
            sent += 1
        except Exception as error:  # the reminder is a courtesy; the request stays answerable
            logger.warning("Reminder for footage request %s failed: %s", pk, error)
    return sent


def retention_purge(*, now=None):
    """Apply the retention rules; returns counts. Idempotent, and safe to rerun after a crash.

    - declined and expired requests without footage, RETENTION_CLOSED_REQUEST_DAYS after they ended;
    - rejected submissions (their files are already gone), after the same delay;
    - accepted footage due under requests_app/retention.py (no case: RETENTION_NO_CASE_DAYS after its
      last activity; a case: EVIDENCE_RETENTION_DAYS after the incident closed; never while on legal
      hold). The record stays, marked purged, with a tombstone naming what was deleted, so the chain
      of custody still shows what happened; the owner gets a receipt.
    """
    from requests_app.models import FootageSubmission
    from requests_app.retention import footage_deletions_run

    now = now or timezone.now()
    closed_before = now - timedelta(days=settings.RETENTION_CLOSED_REQUEST_DAYS)
    _total, deleted = (FootageRequest.objects
                       .filter(status__in=[FootageRequest.Status.DECLINED, FootageRequest.Status.EXPIRED],
                               expires_at__lte=closed_before, submissions__isnull=True)
                       .delete())
    requests_gone = deleted.get(FootageRequest._meta.label, 0)
    rejected_gone, _deleted = FootageSubmission.objects.filter(
        status=FootageSubmission.Status.REJECTED, processed_at__lte=closed_before).delete()
    purged, finished, receipts = footage_deletions_run(now=now)
    return {"requests": requests_gone, "rejected_files": rejected_gone, "evidence_purged": purged,
            "deletions_finished": finished, "receipts_sent": receipts}
