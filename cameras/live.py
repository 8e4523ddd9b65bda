"""Live viewing: sessions that let one staff member watch one camera, and the incident video wall.

A session starts only when the access policy (`cameras.policy.evaluate_live_access`) allows it,
through `live_access_check`, which audits the decision. The viewer then gets a random token, shown
once; only its SHA-256 is stored. Every relay request presents the token; at most every
LIVE_RECHECK_SECONDS the policy is asked again with fresh facts, and as soon as it refuses (pause,
schedule or alarm period over, waiver changed, camera removed...) the session ends with the
policy's reason. Starting and ending are audited and shown to the owner. See docs/live.md.
"""

import hashlib
import hmac
import ipaddress
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qsl

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cameras.geo import APPROXIMATE_GRID_M, approximate_location, haversine_m
from cameras.models import Camera, LiveSession, SharingRules, StreamSource
from cameras.policy import REASONS, Decision, access_ends_at, describe_schedule, evaluate_live_access
from cameras.relay import rtsp_ingest_mode
from cameras.services import live_access_check
from portal.audit import audit_record
from portal.models import AuditEvent
from portal.notices import live_view_email_wanted

# Kinds whose viewers fetch again and again (no connection held open): idle after this long.
POLLED_KINDS = frozenset({StreamSource.Kind.SNAPSHOT, StreamSource.Kind.HLS, StreamSource.Kind.RTSP})
IDLE_SECONDS = 30
# A polled session's last_seen_at is written at most this often (each poll would otherwise write).
SEEN_WRITE_SECONDS = 5

# Why a session ended, by code: the policy's reasons, and the session's own.
END_REASONS = {
    **REASONS,
    "stopped": gettext_lazy("The viewer stopped watching."),
    "idle": gettext_lazy("No one was watching any more."),
    "expired": gettext_lazy("The live session reached its time limit."),
    "camera_deleted": gettext_lazy("The camera left the program."),
    "no_stream": gettext_lazy("The camera has no live stream source."),
    "stream_changed": gettext_lazy("The owner changed the camera's stream source."),
    "no_gateway": gettext_lazy("The media gateway for this camera is not set up."),
    "no_permission": REASONS["no_permission"],
    "session_over": gettext_lazy("This live session has ended or is not yours."),
    "not_found": gettext_lazy("Not found."),
}


def end_reason(code):
    return str(END_REASONS.get(code, code))


def token_hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class LiveStart:
    """What live_session_start returns: the session and its raw token only when allowed."""

    session: LiveSession | None
    token: str | None
    decision: Decision


def allowance_reason(camera, decision):
    """The access the owner's rules give, in plain words: "Owner allows live access at any time"."""
    if not decision.allowed:
        return decision.reason
    rules = camera.rules
    if rules.live_mode == SharingRules.LiveMode.SCHEDULE:
        return _("Owner allows live access %(schedule)s") % {"schedule": describe_schedule(rules.schedule)}
    if rules.live_mode == SharingRules.LiveMode.INCIDENT:
        return _("Owner allows live access during alarms within %(metres)s m") % {"metres": rules.incident_radius_m}
    return _("Owner allows live access at any time")


def _refusal(code):
    return Decision(False, code, end_reason(code))


def _stream_refusal(camera):
    if not _has_stream(camera):
        return _refusal("no_stream")
    if (camera.stream.kind == StreamSource.Kind.RTSP and rtsp_ingest_mode() == "gateway"
            and not settings.MEDIA_GATEWAY_HLS_URL):
        return _refusal("no_gateway")
    return None


def _has_stream(camera):
    try:
        camera.stream  # noqa: B018  (a reverse one-to-one raises when there is none)
    except StreamSource.DoesNotExist:
        return False
    return True


def live_session_start(*, camera, viewer, incident=None, ip_address=None, at=None):
    """Ask the policy (audited) and, when it allows, open a session for `viewer` on `camera`.

    Returns a LiveStart; its token is the only copy of the raw token. The owner's access log shows
    "live.started"; when the owner asked to be told, an e-mail is queued once the session commits.
    """
    at = at or timezone.now()
    decision = live_access_check(camera=camera, viewer=viewer, at=at, incident=incident, ip_address=ip_address)
    if not decision.allowed:
        return LiveStart(None, None, decision)
    refusal = _stream_refusal(camera)
    if refusal is not None:
        return LiveStart(None, None, refusal)
    token = secrets.token_urlsafe(32)
    session = _session_create(camera=camera, viewer=viewer, incident=incident, token=token, at=at,
                              decision=decision, ip_address=ip_address)
    return LiveStart(session, token, decision)


@transaction.atomic
def _session_create(*, camera, viewer, incident, token, at, decision, ip_address):
    session = LiveSession.objects.create(
        camera=camera, camera_owner_id=camera.owner_id, viewer=viewer, incident=incident,
        token_hash=token_hash(token), kind=camera.stream.kind, started_at=at, checked_at=at, last_seen_at=at,
        expires_at=at + timedelta(minutes=settings.LIVE_SESSION_MAX_MINUTES),
    )
    reference = getattr(incident, "reference", "") or ""
    audit_record(action="live.started", actor=viewer, camera=camera, target=f"live:{session.pk}",
                 incident_reference=reference, ip_address=ip_address,
                 details={"code": decision.code, "incident": reference, "kind": session.kind})
    if live_view_email_wanted(camera):
        transaction.on_commit(lambda: _queue_live_view_email(session.pk), robust=True)  # a broker away: it goes on
    return session


def _queue_live_view_email(session_id):
    from django_q.tasks import async_task

    async_task("cameras.tasks.send_live_view_email", session_id, task_name=f"live-view-email-{session_id}")


def live_view_email_send(*, live_session_id):
    """E-mail the owner that staff started watching; once per session. Returns 1 if sent, else 0."""
    session = (LiveSession.objects.select_related("camera", "camera_owner", "viewer", "incident")
               .filter(pk=live_session_id, owner_notified_at__isnull=True).first())
    if session is None or session.camera is None or session.camera_owner is None:
        return 0
    owner = session.camera_owner
    if not live_view_email_wanted(session.camera, owner=owner):
        return 0  # the owner switched to a daily e-mail or to none since the view started
    context = {"owner": owner, "camera": session.camera, "viewer_label": session.viewer.staff_label,
               "started_at": timezone.localtime(session.started_at),
               "incident_reference": session.incident.reference if session.incident else "",
               "CITY_NAME": settings.CITY_NAME, "PROGRAM_NAME": settings.PROGRAM_NAME,
               "access_log_url": f"{settings.SITE_URL.rstrip('/')}/access-log/"}
    with translation.override(owner.language or settings.LANGUAGE_CODE):
        subject = _("Police are watching your camera “%(camera)s” live") % {"camera": session.camera.name}
        body = render_to_string("cameras/email/live_view.txt", context)
    # Marked first: a crash after sending must not send twice (a missed e-mail is in the access log).
    if not LiveSession.objects.filter(pk=session.pk, owner_notified_at__isnull=True).update(
            owner_notified_at=timezone.now()):
        return 0
    EmailMessage(subject=subject, body=body, to=[owner.email]).send()
    return 1


def live_session_end(*, session, code, at=None):
    """End the session with `code` (a key of END_REASONS). Idempotent: True only for the call that ended it."""
    at = at or timezone.now()
    with transaction.atomic():
        ended = LiveSession.objects.filter(pk=session.pk, ended_at__isnull=True).update(ended_at=at, end_code=code)
        if not ended:
            return False
        camera = Camera.objects.filter(pk=session.camera_id).first() if session.camera_id else None
        audit_record(
            action="live.ended", actor=session.viewer, camera=camera,
            camera_owner=None if camera is not None else session.camera_owner,
            target=f"live:{session.pk}", incident_reference=session.incident.reference if session.incident else "",
            details={"code": code, "reason": end_reason(code),
                     "seconds": max(0, round((at - session.started_at).total_seconds()))},
        )
    session.ended_at, session.end_code = at, code
    return True


def live_session_authorize(token, *, viewer=None, camera_id=None, at=None, gateway=False, recheck=False):
    """The active session for `token`, or None.

    A browser must be the viewer who started it (`viewer`); the media gateway (`gateway=True`)
    presents the token alone. `camera_id`, when given, must be the session's camera. Every
    LIVE_RECHECK_SECONDS (or now, with `recheck`) the policy is asked again; when it refuses, or
    the session expired or sat idle, the session ends (audited) and None is returned.
    """
    if not token:
        return None
    at = at or timezone.now()
    session = LiveSession.objects.with_token(token).select_related("viewer", "incident", "camera_owner").first()
    if session is None or session.is_ended:
        return None
    if not gateway and (viewer is None or session.viewer_id != viewer.pk):
        return None
    if camera_id is not None and session.camera_id != camera_id:
        return None
    if session.expires_at <= at:
        live_session_end(session=session, code="expired", at=at)
        return None
    if session.kind in POLLED_KINDS and (at - session.last_seen_at).total_seconds() > IDLE_SECONDS:
        live_session_end(session=session, code="idle", at=at)
        return None
    updates = {}
    if recheck or (at - session.checked_at).total_seconds() >= settings.LIVE_RECHECK_SECONDS:
        decision = _recheck(session, at)
        if not decision.allowed:
            live_session_end(session=session, code=decision.code, at=at)
            return None
        updates["checked_at"] = at
    if (at - session.last_seen_at).total_seconds() >= SEEN_WRITE_SECONDS:
        updates["last_seen_at"] = at
    if updates:
        LiveSession.objects.filter(pk=session.pk).update(**updates)
        for name, value in updates.items():
            setattr(session, name, value)
    return session


def _recheck(session, at):
    """The policy's answer now, with fresh facts about the camera, its owner, the viewer and the incident."""
    from portal.models import User

    camera = (Camera.objects.with_policy_facts().select_related("stream").filter(pk=session.camera_id).first()
              if session.camera_id else None)
    if camera is None:
        return _refusal("camera_deleted")
    if not _has_stream(camera):
        return _refusal("no_stream")
    if camera.stream.kind != session.kind:
        return _refusal("stream_changed")
    viewer = User.objects.filter(pk=session.viewer_id).first()
    incident = None
    if session.incident_id:
        from incidents.models import Incident

        incident = Incident.objects.filter(pk=session.incident_id).first()
    return evaluate_live_access(camera, viewer, at, incident)


def live_session_release(*, session, at=None):
    """The viewer's last relay connection closed: the viewer stopped watching."""
    return live_session_end(session=session, code="stopped", at=at)


def live_session_status(session, at=None):
    """{active, code, reason, ends_at} for the player's status poll."""
    at = at or timezone.now()
    if session.is_ended:
        return {"active": False, "code": session.end_code, "reason": end_reason(session.end_code), "ends_at": None}
    return {"active": True, "code": "active", "reason": "", "ends_at": live_session_ends_at(session, at)}


def live_session_ends_at(session, at=None):
    """When the session will end at the latest: its time limit, or earlier when the owner's allowance ends."""
    at = at or timezone.now()
    camera = (Camera.objects.with_policy_facts().filter(pk=session.camera_id).first()
              if session.camera_id else None)
    allowance_end = access_ends_at(camera, at, session.incident) if camera is not None else None
    return min(session.expires_at, allowance_end) if allowance_end else session.expires_at


def live_sessions_end_stale(at=None):
    """End sessions past their time limit, and polled ones no one fetched for IDLE_SECONDS. Returns how many."""
    at = at or timezone.now()
    count = 0
    stale = LiveSession.objects.open().select_related("viewer", "incident", "camera_owner")
    for session in stale.filter(expires_at__lte=at):
        count += live_session_end(session=session, code="expired", at=at)
    idle_since = at - timedelta(seconds=IDLE_SECONDS)
    for session in stale.filter(kind__in=POLLED_KINDS, last_seen_at__lt=idle_since):
        count += live_session_end(session=session, code="idle", at=at)
    return count


# --- The incident video wall ---------------------------------------------------------------------


def live_candidates(*, incident, viewer, at=None, radius_m=None):
    """Integrated cameras near the incident, nearest first, split into (allowed, refused) lists of dicts.

    Each camera is judged by the policy as a session start would be, but only one "live.wall"
    audit event records the whole look (which cameras were allowed and which refused). Positions
    are blurred where the owner chose an approximate location, as in the camera search.
    """
    at = at or timezone.now()
    radius_m = radius_m or settings.LIVE_WALL_RADIUS_M
    cameras = (Camera.objects.visible_to_staff().integrated().with_policy_facts().select_related("stream")
               .within(incident.latitude, incident.longitude, radius_m + APPROXIMATE_GRID_M))
    allowed, refused = [], []
    for camera in cameras:
        latitude, longitude, distance = _shown_position(camera, incident)
        if distance > radius_m:
            continue
        decision = evaluate_live_access(camera, viewer, at, incident)
        if decision.allowed:
            decision = _stream_refusal(camera) or decision
        item = {"id": camera.pk, "name": camera.name, "distance_m": round(distance, 1), "code": decision.code,
                "reason": str(allowance_reason(camera, decision))}
        if decision.allowed:
            item.update(kind=camera.stream.kind, ends_at=access_ends_at(camera, at, incident),
                        latitude=latitude, longitude=longitude)
            allowed.append(item)
        else:
            refused.append(item)
    allowed.sort(key=lambda item: (item["distance_m"], item["id"]))
    refused.sort(key=lambda item: (item["distance_m"], item["id"]))
    audit_record(action="live.wall", actor=viewer, target=f"incident:{incident.pk}",
                 incident_reference=incident.reference, outcome=AuditEvent.Outcome.DONE,
                 details={"allowed": [item["id"] for item in allowed],
                          "refused": {str(item["id"]): item["code"] for item in refused}})
    return allowed, refused


def _shown_position(camera, incident):
    if camera.rules.location_precision == SharingRules.Precision.APPROXIMATE:
        latitude, longitude = approximate_location(camera.latitude, camera.longitude)
        return latitude, longitude, haversine_m(incident.latitude, incident.longitude, latitude, longitude)
    return camera.latitude, camera.longitude, camera.distance_m


# --- The media gateway's authentication hook (MediaMTX authMethod: http) ------------------------

GATEWAY_PATH = re.compile(r"^camera-(\d{1,12})$")


def media_gateway_authorize(*, action, path="", token="", query="", user="", password="", ip="", protocol=""):
    """May the media gateway let this request through? Returns (allowed, code); every answer is audited.

    Reading `camera-<id>` needs an active live session for that camera: its token is taken from
    `token`, from `token=` in the query string or from the password, and the session is checked
    against the policy again. Publishing needs MEDIA_GATEWAY_PUBLISH_SECRET. Anything else is refused.
    """
    session = None
    match = GATEWAY_PATH.match(path or "")
    if action == "read":
        camera_id = int(match.group(1)) if match else None
        for candidate in _token_candidates(token, query, password):
            if camera_id is None:
                break
            session = live_session_authorize(candidate, camera_id=camera_id, gateway=True, recheck=True)
            if session is not None:
                break
        code = "session" if session is not None else ("unknown_path" if match is None else "no_session")
    elif action == "publish":
        secret = settings.MEDIA_GATEWAY_PUBLISH_SECRET
        offered = [value for value in (password, token, *_query_tokens(query)) if value]
        good = bool(secret) and any(hmac.compare_digest(value.encode(), secret.encode()) for value in offered)
        code = "publisher" if good else "bad_publish_secret"
    else:
        code = "action_not_allowed"
    allowed = code in ("session", "publisher")
    camera = None
    if session is not None and session.camera_id:
        camera = Camera.objects.filter(pk=session.camera_id).first()
    # The answer is recorded; the token and password never are.
    audit_record(action="live.gateway", actor=session.viewer if session is not None else None, camera=camera,
                 target=f"gateway:{(path or '')[:60]}", ip_address=_valid_ip(ip),
                 outcome=AuditEvent.Outcome.ALLOWED if allowed else AuditEvent.Outcome.DENIED,
                 incident_reference=session.incident.reference if session is not None and session.incident else "",
                 details={"action": str(action)[:20], "protocol": str(protocol)[:20], "code": code,
                          "session": session.pk if session is not None else None})
    return allowed, code


def _query_tokens(query):
    return [value for name, value in parse_qsl(query or "", keep_blank_values=True) if name == "token"]


def _token_candidates(token, query, password):
    return [value for value in dict.fromkeys([token, *_query_tokens(query), password]) if value]


def _valid_ip(ip):
    try:
        return str(ipaddress.ip_address(ip)) if ip else None
    except ValueError:
        return None
