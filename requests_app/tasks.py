"""django-q2 tasks: they take ids, re-fetch, call services, and are safe to run twice."""

from django.core.mail import get_connection
from django.db.models import Q
from django.utils import timezone

from requests_app.models import FootageRequest
from requests_app.services import footage_request_email_send, footage_requests_expire


def send_area_request_emails(area_request_id):
    """E-mail every owner of one area request who has not been e-mailed yet, over one SMTP connection."""
    ids = (FootageRequest.objects.filter(area_request_id=area_request_id)
           .exclude(email_state__in=[FootageRequest.EmailState.SENT, FootageRequest.EmailState.GAVE_UP])
           .order_by("pk").values_list("pk", flat=True))
    return _send_each(list(ids))


def _send_each(ids):
    sent = 0
    connection = get_connection()
    try:
        connection.open()
    except OSError:
        pass  # the server is down: each e-mail records its own failure and is retried later
    try:
        for pk in ids:
            sent += footage_request_email_send(footage_request_id=pk, connection=connection)
    finally:
        connection.close()
    return sent


def retry_failed_emails():
    """Scheduled every minute: e-mails whose back-off has passed, those a crashed worker left 'sending'
    (once its lease ran out), and those whose fan-out task never ran."""
    now = timezone.now()
    due = FootageRequest.objects.filter(
        Q(email_state__in=[FootageRequest.EmailState.FAILED, FootageRequest.EmailState.SENDING],
          email_next_attempt_at__lte=now)
        | Q(email_state=FootageRequest.EmailState.QUEUED, created_at__lte=now - timezone.timedelta(minutes=10)),
        status=FootageRequest.Status.PENDING,
    ).order_by("pk").values_list("pk", flat=True)
    return _send_each(list(due))


def expire_footage_requests():
    """Scheduled hourly."""
    return footage_requests_expire()


def process_submission(submission_id):
    from requests_app.submissions import submission_process

    submission_process(submission_id=submission_id)


def send_reminders():
    """Scheduled hourly."""
    from requests_app.services import footage_requests_remind

    return footage_requests_remind()


def purge_by_retention_rules():
    """Scheduled daily."""
    from requests_app.services import retention_purge

    return retention_purge()


def delete_expired_uploads():
    """Scheduled hourly: unfinished uploads past their expiry, with their files."""
    from requests_app.tus import delete_expired_uploads as delete

    return delete()
