"""django-q2 tasks: they take ids, re-fetch, call services, and are safe to run twice."""

from django.db.models import Q
from django.utils import timezone

from requests_app.models import FootageRequest
from requests_app.services import footage_request_email_send, footage_requests_expire


def send_area_request_emails(area_request_id):
    """E-mail every owner of one area request who has not been e-mailed yet."""
    ids = (FootageRequest.objects.filter(area_request_id=area_request_id)
           .exclude(email_state__in=[FootageRequest.EmailState.SENT, FootageRequest.EmailState.GAVE_UP])
           .order_by("pk").values_list("pk", flat=True))
    return sum(footage_request_email_send(footage_request_id=pk) for pk in list(ids))


def retry_failed_emails():
    """Scheduled every minute: retry e-mails whose back-off has passed, and any left 'sending' by a crash."""
    now = timezone.now()
    due = FootageRequest.objects.filter(
        Q(email_state=FootageRequest.EmailState.FAILED, email_next_attempt_at__lte=now)
        | Q(email_state__in=[FootageRequest.EmailState.QUEUED, FootageRequest.EmailState.SENDING],
            created_at__lte=now - timezone.timedelta(minutes=10)),
        status=FootageRequest.Status.PENDING,
    ).order_by("pk").values_list("pk", flat=True)
    return sum(footage_request_email_send(footage_request_id=pk) for pk in list(due))


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
