"""How owners hear of live views: an e-mail on each, one daily e-mail (the digest), or none.

A camera's rule `notify_on_live_view` says WHICH cameras notify; the owner's `live_view_notice`
says HOW. With "each", cameras.live e-mails every session as it starts. With "digest", nothing is
sent per view: the hourly job `portal.tasks.send_notice_digests` sends each such owner, from
NOTICE_DIGEST_HOUR local time (TIME_ZONE), one e-mail listing the previous day's live views of
their notifying cameras. With "none", no e-mail at all; the access log still lists every view.

Exactly once per owner and day: a `NoticeDigest` row (unique per owner and day) is claimed with a
conditional UPDATE that sets a lease (`claimed_until`) before the e-mail is built and sent, and is
marked `sent_at` after. Two workers running the job at once cannot both hold the claim; a worker
that dies after claiming leaves the lease to run out, and the next run sends it. Only a crash in the
milliseconds between the SMTP server's acceptance and the commit of `sent_at` can repeat an e-mail;
the repeat carries the same Message-ID, so mail clients fold it.
"""

import logging
from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.translation import ngettext

from portal.models import NoticeDigest, User

logger = logging.getLogger(__name__)

# How long a worker owns a digest it claimed: far longer than one SMTP hand-off (EMAIL_TIMEOUT).
DIGEST_LEASE = timedelta(minutes=10)


def live_view_email_wanted(camera, *, owner=None):
    """Whether a live view of `camera` is e-mailed at once: its rule asks, and its owner chose "each"."""
    owner = owner or camera.owner
    return bool(camera.rules.notify_on_live_view) and owner.live_view_notice == User.LiveViewNotice.EACH


def digest_day_due(now):
    """The local day whose digests are due at `now` (yesterday), or None before NOTICE_DIGEST_HOUR."""
    local = timezone.localtime(now, timezone.get_default_timezone())
    if local.hour < settings.NOTICE_DIGEST_HOUR:
        return None
    return local.date() - timedelta(days=1)


def day_bounds(day):
    """[start, end) of a local day, as aware datetimes (23 or 25 hours long across a DST change)."""
    zone = timezone.get_default_timezone()
    # In UTC: Python subtracts two datetimes of one zone by their wall clocks, which hides the DST hour.
    return (datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC),
            datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC))


def digest_live_views(owner, day):
    """The owner's live views that day on cameras that notify, not already e-mailed one by one."""
    from cameras.models import LiveSession

    start, end = day_bounds(day)
    return (LiveSession.objects.notified_between(start, end)
            .filter(camera_owner=owner, owner_notified_at__isnull=True)
            .select_related("camera", "viewer", "incident").order_by("started_at", "pk"))


def notice_digests_send(*, now=None):
    """Send the digests due at `now` (default: the present); returns how many e-mails were sent.

    Safe to run at any time and from several workers at once: each owner gets at most one digest
    per day. Before NOTICE_DIGEST_HOUR nothing is due; a day nobody watched sends nothing.
    """
    from cameras.models import LiveSession

    now = now or timezone.now()
    day = digest_day_due(now)
    if day is None:
        return 0
    start, end = day_bounds(day)
    digest_owners = User.objects.owners().filter(is_active=True, live_view_notice=User.LiveViewNotice.DIGEST)
    owner_ids = (LiveSession.objects.notified_between(start, end)
                 .filter(camera_owner__in=digest_owners, owner_notified_at__isnull=True)
                 .exclude(camera_owner__in=NoticeDigest.objects.filter(day=day, sent_at__isnull=False).values("owner"))
                 .values_list("camera_owner", flat=True).distinct().order_by("camera_owner"))
    sent = 0
    for owner_id in list(owner_ids):
        digest = notice_digest_claim(owner_id=owner_id, day=day, now=now)
        if digest is not None:
            sent += _digest_deliver(digest)
    return sent


def notice_digest_claim(*, owner_id, day, now):
    """Claim the owner's digest of `day` for DIGEST_LEASE; the NoticeDigest, or None if it is sent or
    another worker holds it. The claim is one conditional UPDATE: of two workers, one changes the row."""
    digest, _created = NoticeDigest.objects.get_or_create(owner_id=owner_id, day=day)
    lease_ends = now + DIGEST_LEASE
    if not NoticeDigest.objects.claimable(now).filter(pk=digest.pk).update(claimed_until=lease_ends):
        return None
    digest.claimed_until = lease_ends
    return digest


def _digest_deliver(digest):
    from cameras.models import LiveSession

    owner = User.objects.get(pk=digest.owner_id)
    # Re-read under the claim: the owner may have switched away from the digest since the list was made.
    views = list(digest_live_views(owner, digest.day)) if owner.live_view_notice == User.LiveViewNotice.DIGEST else []
    if views:
        try:
            _digest_email(owner, digest, views).send()
        except Exception as error:  # any SMTP or network failure: free the claim, the next run retries
            NoticeDigest.objects.filter(pk=digest.pk, sent_at__isnull=True).update(claimed_until=None)
            logger.warning("Live-view digest %s for user %s failed: %s", digest.day, owner.pk, error)
            return 0
    sent_at = timezone.now()
    NoticeDigest.objects.filter(pk=digest.pk, sent_at__isnull=True).update(
        sent_at=sent_at, live_views=len(views), claimed_until=None)
    LiveSession.objects.filter(pk__in=[view.pk for view in views], owner_notified_at__isnull=True).update(
        owner_notified_at=sent_at)
    return 1 if views else 0


def _digest_email(owner, digest, views):
    site = settings.SITE_URL.rstrip("/")
    with translation.override(owner.language or settings.LANGUAGE_CODE):
        day_label = formats.date_format(digest.day, "DATE_FORMAT")
        context = {"owner": owner, "views": [_view_line(view) for view in views], "day": day_label,
                   "access_log_url": f"{site}/access-log/", "account_url": f"{site}/account/",
                   "CITY_NAME": settings.CITY_NAME, "PROGRAM_NAME": settings.PROGRAM_NAME}
        subject = ngettext("Police watched your cameras live once on %(day)s",
                           "Police watched your cameras live %(count)s times on %(day)s",
                           len(views)) % {"count": len(views), "day": day_label}
        body = render_to_string("portal/email/live_view_digest.txt", context)
    return EmailMessage(subject=subject, body=body, to=[owner.email],
                        headers={"Message-ID": f"<live-view-digest-{digest.pk}@camera-portal>"})


def _view_line(session):
    zone = timezone.get_default_timezone()
    return {"started_at": timezone.localtime(session.started_at, zone),
            "ended_at": timezone.localtime(session.ended_at, zone) if session.ended_at else None,
            "camera": session.camera.name if session.camera else "",
            "viewer_label": session.viewer.staff_label,
            "incident_reference": session.incident.reference if session.incident else ""}
