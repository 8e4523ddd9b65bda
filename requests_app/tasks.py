"""django-q2 tasks: they take ids, re-fetch, call services, and are safe to run twice."""

from requests_app.services import area_request_emails_send, footage_request_emails_retry, footage_requests_expire


def send_area_request_emails(area_request_id):
    """E-mail the owners of one area request not e-mailed yet. The fan-out queues one per batch;
    running at once, they share the work."""
    return area_request_emails_send(area_request_id=area_request_id)


def retry_failed_emails():
    """Scheduled every minute: e-mails whose back-off has passed, those a crashed worker left 'sending'
    (once its lease ran out), and those whose fan-out task never ran."""
    return footage_request_emails_retry()


def expire_footage_requests():
    """Scheduled hourly."""
    return footage_requests_expire()


def process_submission(submission_id):
    from requests_app.submissions import submission_process

    submission_process(submission_id=submission_id)


def requeue_stalled_submissions():
    """Scheduled every 10 minutes: files whose check task never ran (or gave up) are checked again."""
    from requests_app.submissions import submissions_requeue_stalled

    return submissions_requeue_stalled()


def send_reminders():
    """Scheduled hourly."""
    from requests_app.services import footage_requests_remind

    return footage_requests_remind()


def purge_by_retention_rules():
    """Scheduled daily."""
    from requests_app.services import retention_purge

    return retention_purge()


def send_deletion_receipt(tombstone_id):
    """Queued when a file is deleted under the retention rules; sends the owner's receipt once."""
    from requests_app.retention import deletion_receipt_send

    return deletion_receipt_send(tombstone_id=tombstone_id)


def delete_expired_uploads():
    """Scheduled hourly: unfinished uploads past their expiry, with their files."""
    from requests_app.tus import delete_expired_uploads as delete

    return delete()
