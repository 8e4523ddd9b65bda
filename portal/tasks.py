"""django-q2 tasks for the portal app: thin, idempotent, safe to run from several workers at once."""

from portal.notices import notice_digests_send


def send_notice_digests():
    """Scheduled hourly: the daily live-view e-mails now due (portal/notices.py)."""
    return notice_digests_send()
