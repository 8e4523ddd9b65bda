"""django-q2 tasks for cameras: they take ids, re-fetch, call services, and are safe to run twice."""

from cameras.live import live_sessions_end_stale, live_view_email_send


def send_live_view_email(live_session_id):
    """Tell the owner that staff started watching their camera live."""
    return live_view_email_send(live_session_id=live_session_id)


def end_stale_live_sessions():
    """Scheduled every minute: sessions past their time limit, and polled ones no one fetches any more."""
    return live_sessions_end_stale()
