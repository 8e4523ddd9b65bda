import asyncio
import base64
import json
import logging
import re
import time

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cameras import crypto, live, relay, services
from cameras.forms import CameraForm, OnvifDiscoverForm, PauseForm, SharingRulesForm, StreamSourceForm
from cameras.models import Camera, LiveSession, StreamSource
from cameras.rtsp_ingest import IngestChannel
from portal.access import owner_required
from portal.models import Waiver
from portal.request_info import client_ip


def get_camera_for_owner(request, pk):
    """The signed-in owner's camera, or 404: other owners' cameras do not exist for them."""
    return get_object_or_404(Camera.objects.owned_by(request.user).select_related("rules"), pk=pk)


def _add_errors(form, error):
    for field, messages_ in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages_)


def _waiver_signed(request):
    waiver = Waiver.objects.current_for(request.user)
    return waiver is None or waiver.signatures.filter(user=request.user).exists()


def _same_place_as(request):
    """?near=<id>: start a new camera at the address and spot of one of the owner's cameras."""
    near = request.GET.get("near", "")
    camera = Camera.objects.owned_by(request.user).filter(pk=int(near)).first() if near.isdigit() else None
    if camera is None:
        return {}
    return {"address": camera.address, "latitude": camera.latitude, "longitude": camera.longitude,
            "site_kind": camera.site_kind}


@owner_required
def camera_create(request):
    if not _waiver_signed(request):
        messages.warning(request, _("Please read and sign the program agreement before registering a camera."))
        return redirect("portal:waiver_sign")
    form = CameraForm(request.POST or None, initial=_same_place_as(request))
    if request.method == "POST" and form.is_valid():
        try:
            camera = services.camera_register(owner=request.user, ip_address=client_ip(request), **form.cleaned_data)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("“%(name)s” is registered. Now choose what police may do.") % {
                "name": camera.name})
            return redirect("cameras:rules", pk=camera.pk)
    return render(request, "cameras/camera_form.html", {"form": form, "camera": None})


@owner_required
def camera_edit(request, pk):
    camera = get_camera_for_owner(request, pk)
    form = CameraForm(request.POST or None, initial=CameraForm.initial_for(camera))
    if request.method == "POST" and form.is_valid():
        try:
            services.camera_update(camera=camera, actor=request.user, ip_address=client_ip(request),
                                   **form.cleaned_data)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("Your camera was saved."))
            return redirect("portal:dashboard")
    return render(request, "cameras/camera_form.html", {"form": form, "camera": camera})


@owner_required
def camera_rules(request, pk):
    camera = get_camera_for_owner(request, pk)
    form = SharingRulesForm(request.POST or None, camera=camera, initial=SharingRulesForm.initial_for(camera.rules))
    if request.method == "POST" and form.is_valid():
        try:
            services.sharing_rules_update(camera=camera, actor=request.user, ip_address=client_ip(request),
                                          **form.rule_fields())
            copied = 0
            if form.cleaned_data["apply_to_all"]:
                camera.refresh_from_db()
                copied = services.sharing_rules_apply_to_all(source_camera=camera, actor=request.user,
                                                             ip_address=client_ip(request))
        except ValidationError as error:
            _add_errors(form, error)
        else:
            message = _("Your rules were saved.")
            if copied:
                message += " " + _("They now apply to your %(count)s other cameras too.") % {"count": copied}
            messages.success(request, message)
            if camera.is_integrated and not hasattr(camera, "stream"):
                return redirect("cameras:stream", pk=camera.pk)
            return redirect("portal:dashboard")
    return render(request, "cameras/rules_form.html", {"form": form, "camera": camera})


@owner_required
def camera_stream(request, pk):
    camera = get_camera_for_owner(request, pk)
    if not camera.is_integrated:
        messages.info(request, _("Only integrated cameras have a live stream. Change the access level first."))
        return redirect("cameras:edit", pk=camera.pk)
    source = StreamSource.objects.filter(camera=camera).first()
    form = StreamSourceForm(request.POST or None, has_source=source is not None,
                            initial={"kind": source.kind if source else StreamSource.Kind.MJPEG})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["url"]:
                services.stream_source_set(camera=camera, actor=request.user, kind=data["kind"], url=data["url"],
                                           username=data["username"], password=data["password"],
                                           ip_address=client_ip(request))
            elif source.kind != data["kind"]:
                raise ValidationError({"url": _("Enter the address again to change the kind of stream.")})
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("The stream source was saved. Test it below."))
            return redirect("cameras:stream", pk=camera.pk)
    return _stream_page(request, camera, source, form=form)


def _stream_page(request, camera, source, **context):
    context.setdefault("onvif_form", OnvifDiscoverForm(initial={"port": 80}))
    return render(request, "cameras/stream_form.html", {"camera": camera, "source": source, **context})


ONVIF_SESSION_SECONDS = 600


def _onvif_key(camera):
    return f"onvif-discovery:{camera.pk}"


def _onvif_remember(request, camera, profiles, username, password):
    """Keep what was found, encrypted, in the owner's session until one profile is picked."""
    found = {"at": time.time(), "username": username, "password": password,
             "profiles": {profile.token: profile.uri for profile in profiles}}
    request.session[_onvif_key(camera)] = crypto.encrypt(json.dumps(found))


def _onvif_recall(request, camera):
    stored = request.session.pop(_onvif_key(camera), None)
    if not stored:
        return None
    found = json.loads(crypto.decrypt(stored))
    return found if time.time() - found["at"] < ONVIF_SESSION_SECONDS else None


@owner_required
@require_POST
def camera_stream_onvif(request, pk):
    """"Find the stream with ONVIF": discover the camera's profiles, then store the one picked as RTSP."""
    camera = get_camera_for_owner(request, pk)
    if not camera.is_integrated:
        messages.info(request, _("Only integrated cameras have a live stream. Change the access level first."))
        return redirect("cameras:edit", pk=camera.pk)
    source = StreamSource.objects.filter(camera=camera).first()
    form = StreamSourceForm(has_source=source is not None,
                            initial={"kind": source.kind if source else StreamSource.Kind.RTSP})
    if request.POST.get("action") == "use":
        found = _onvif_recall(request, camera)
        if found is None:
            messages.warning(request, _("That discovery has expired. Find the stream again."))
            return _stream_page(request, camera, source, form=form)
        uri = found["profiles"].get(request.POST.get("profile", ""))
        if uri is None:
            messages.warning(request, _("Choose one of the streams found. Find the stream again."))
            return _stream_page(request, camera, source, form=form)
        services.stream_source_set(camera=camera, actor=request.user, kind=StreamSource.Kind.RTSP, url=uri,
                                   username=found["username"], password=found["password"],
                                   ip_address=client_ip(request))
        messages.success(request, _("The stream found with ONVIF was saved as an RTSP source. Test it below."))
        return redirect("cameras:stream", pk=camera.pk)
    onvif_form = OnvifDiscoverForm(request.POST)
    context = {"form": form, "onvif_form": onvif_form}
    if onvif_form.is_valid():
        data = onvif_form.cleaned_data
        profiles, error = services.stream_onvif_discover(
            camera=camera, actor=request.user, host=data["host"], port=data["port"], username=data["onvif_username"],
            password=data["onvif_password"], ip_address=client_ip(request))
        if profiles:
            _onvif_remember(request, camera, profiles, data["onvif_username"], data["onvif_password"])
        context.update(onvif_profiles=profiles, onvif_error=error)
    return _stream_page(request, camera, source, **context)


@owner_required
@require_POST
def camera_stream_test(request, pk):
    camera = get_camera_for_owner(request, pk)
    source = get_object_or_404(StreamSource, camera=camera)
    result = services.stream_source_test(camera=camera, actor=request.user, ip_address=client_ip(request))
    frame = base64.b64encode(result.frame_jpeg).decode() if result.frame_jpeg else None
    form = StreamSourceForm(has_source=True, initial={"kind": source.kind})
    return _stream_page(request, camera, source, form=form, result=result, frame=frame)


@owner_required
def camera_delete(request, pk):
    camera = get_camera_for_owner(request, pk)
    if request.method == "POST":
        services.camera_delete(camera=camera, actor=request.user, ip_address=client_ip(request))
        messages.success(request, _("“%(name)s” was removed from the program.") % {"name": camera.name})
        return redirect("portal:dashboard")
    return render(request, "cameras/camera_confirm_delete.html", {"camera": camera})


@owner_required
@require_POST
def sharing_pause(request):
    action = request.POST.get("action")
    form = PauseForm(request.POST)
    if action == "resume":
        until = None
    elif action == "pause_now":
        until = services.PAUSED_UNTIL_RESUMED
    elif form.is_valid() and form.paused_until():
        until = form.paused_until()
    else:
        messages.error(request, _("Choose a date and time to pause until, or press “Pause all my cameras now”."))
        return redirect("portal:dashboard")
    try:
        count = services.sharing_pause_all(owner=request.user, until=until, ip_address=client_ip(request))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if until is None:
            messages.success(request, _("Sharing resumed for your %(count)s cameras.") % {"count": count})
        else:
            messages.success(request, _("Sharing is paused for your %(count)s cameras.") % {"count": count})
    return redirect("portal:dashboard")


# --- Live viewing (async: served by daphne; see cameras/relay.py and docs/live.md) ----------------

MJPEG_BOUNDARY = "live-frame"
LIVE_TOKEN_IN_PATH = re.compile(r"^/live/(?!sessions/)[^/]+")


class _HideLiveTokens(logging.Filter):
    """Keeps live-session tokens out of django.request's "Forbidden: /live/<token>/..." lines."""

    def filter(self, record):
        if isinstance(record.args, tuple):
            record.args = tuple(LIVE_TOKEN_IN_PATH.sub("/live/(token)", arg) if isinstance(arg, str) else arg
                                for arg in record.args)
        return True


logging.getLogger("django.request").addFilter(_HideLiveTokens())
FIRST_FRAME_WAIT_SECONDS = 8
RECHECK_POLL_SECONDS = 0.1  # how often a stream looks whether its policy recheck has answered
# Strong references to the small clean-up tasks started when a viewer leaves.
_background_tasks = set()


def _no_store(response):
    add_never_cache_headers(response)
    return response


def _json(data, status=200):
    return _no_store(JsonResponse(data, status=status))


def _refusal(code, status=403):
    return _json({"code": code, "reason": live.end_reason(code)}, status=status)


async def _staff_viewer(request):
    """The signed-in staff member, or None: live URLs are for staff browsers only (the token is not enough)."""
    user = await request.auser()
    return user if user.is_authenticated and user.is_staff else None


def _background(coroutine):
    task = asyncio.ensure_future(coroutine)
    _background_tasks.add(task)
    task.add_done_callback(_background_tasks.discard)


def _media_src(kind, token):
    if kind == StreamSource.Kind.MJPEG:
        return reverse("live:mjpeg", args=[token])
    if kind == StreamSource.Kind.SNAPSHOT:
        return reverse("live:snapshot", args=[token])
    return reverse("live:hls", args=[token, "index.m3u8"])


def _start_session(request, user, camera_id, incident_id):
    """(status, body) of a start request; synchronous, database work."""
    from incidents.models import Incident

    camera = (Camera.objects.visible_to_staff().with_policy_facts().select_related("stream")
              .filter(pk=camera_id).first())
    if camera is None:
        return 404, {"code": "not_found", "reason": _("There is no such camera.")}
    incident = None
    if incident_id is not None:
        incident = Incident.objects.visible_to(user).filter(pk=incident_id).first()
        if incident is None:
            return 404, {"code": "not_found", "reason": _("There is no such incident, or it is not yours.")}
    started = live.live_session_start(camera=camera, viewer=user, incident=incident, ip_address=client_ip(request))
    if started.session is None:
        return 403, {"code": started.decision.code, "reason": started.decision.reason}
    session, token = started.session, started.token
    body = {"token": token, "kind": session.kind, "src": _media_src(session.kind, token),
            "status_url": reverse("live:status", args=[token]), "end_url": reverse("live:end", args=[token]),
            "reason": str(live.allowance_reason(camera, started.decision)),
            "ends_at": live.live_session_ends_at(session)}
    if session.kind == StreamSource.Kind.RTSP and relay.rtsp_ingest_mode() == "embedded":
        body["poster"] = reverse("live:snapshot", args=[token])  # the latest key frame, as a JPEG
    return 201, body


@require_POST
async def live_session_create(request):
    """POST {"camera": id, "incident": id or null} → 201 {token, kind, src, status_url, reason, ends_at} or 403."""
    user = await _staff_viewer(request)
    if user is None:
        return _refusal("no_permission")
    try:
        payload = json.loads(request.body or b"{}")
        camera_id = int(payload["camera"])
        incident_id = int(payload["incident"]) if payload.get("incident") not in (None, "") else None
    except (ValueError, TypeError, KeyError, AttributeError):
        return _json({"code": "bad_request", "reason": _("Send JSON: {\"camera\": id, \"incident\": id}.")}, 400)
    status, body = await sync_to_async(_start_session)(request, user, camera_id, incident_id)
    return _json(body, status)


async def _authorized(request, token, kinds):
    """(user, session, upstream) for a relay request, or an error response."""
    user = await _staff_viewer(request)
    if user is None:
        return _refusal("no_permission")
    session = await sync_to_async(live.live_session_authorize)(token, viewer=user)
    if session is None or session.kind not in kinds:
        return _refusal("session_over", 404)
    upstream = await sync_to_async(relay.upstream_for_camera)(session.camera_id)
    if upstream is None:
        return _refusal("no_stream", 404)
    return user, session, upstream


@require_GET
async def live_mjpeg(request, token):
    found = await _authorized(request, token, {StreamSource.Kind.MJPEG})
    if isinstance(found, HttpResponse):
        return found
    user, session, upstream = found
    hub = relay.get_hub()
    channel = hub.channel(upstream)
    parts = _mjpeg_parts(hub, channel, session, token, user)
    response = StreamingHttpResponse(parts, content_type=f"multipart/x-mixed-replace; boundary={MJPEG_BOUNDARY}")
    response["X-Accel-Buffering"] = "no"  # a reverse proxy must pass frames on at once
    return _no_store(response)


async def _mjpeg_parts(hub, channel, session, token, user):
    """Multipart parts, one per frame, until the policy refuses.

    Each viewer has its own short queue (relay.Subscription): the policy recheck runs beside the frames,
    and a viewer busy for a moment catches up instead of skipping; one that falls far behind loses the
    oldest frames.
    """
    hub.connections[session.pk] += 1
    subscription = channel.subscribe()
    ended_by_policy = False
    recheck = None
    try:
        next_check = time.monotonic() + settings.LIVE_RECHECK_SECONDS
        while True:
            wait = RECHECK_POLL_SECONDS if recheck is not None else max(0.05, next_check - time.monotonic())
            frame = await subscription.next_frame(wait)
            if frame is not None:
                yield (f"--{MJPEG_BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(frame)}\r\n\r\n"
                       .encode() + frame + b"\r\n")
            if recheck is None and time.monotonic() >= next_check:
                recheck = asyncio.ensure_future(
                    sync_to_async(live.live_session_authorize)(token, viewer=user, recheck=True))
            if recheck is not None and recheck.done():
                allowed, recheck = recheck.result(), None
                if allowed is None:
                    ended_by_policy = True
                    return
                next_check = time.monotonic() + settings.LIVE_RECHECK_SECONDS
    finally:
        if recheck is not None:
            recheck.cancel()
        channel.unsubscribe(subscription)
        hub.connections[session.pk] -= 1
        if hub.connections[session.pk] <= 0:
            del hub.connections[session.pk]
            if not ended_by_policy:
                _background(sync_to_async(live.live_session_release)(session=session))


@require_GET
async def live_snapshot(request, token):
    found = await _authorized(request, token, {StreamSource.Kind.SNAPSHOT, StreamSource.Kind.RTSP})
    if isinstance(found, HttpResponse):
        return found
    _user, _session, upstream = found
    if upstream.kind == StreamSource.Kind.RTSP and upstream.gateway:
        return _refusal("not_found", 404)  # the media gateway gives no pictures
    channel = relay.get_hub().channel(upstream)
    if isinstance(channel, IngestChannel):
        frame = await channel.snapshot(FIRST_FRAME_WAIT_SECONDS)
    else:
        channel.touch()
        frame = await channel.latest(FIRST_FRAME_WAIT_SECONDS)
    if frame is None:
        return _json({"code": "camera_unavailable", "reason": _("The camera did not send a picture.")}, 503)
    return _no_store(HttpResponse(frame, content_type="image/jpeg"))


@require_GET
async def live_hls(request, token, path):
    found = await _authorized(request, token, {StreamSource.Kind.HLS, StreamSource.Kind.RTSP})
    if isinstance(found, HttpResponse):
        return found
    _user, _session, upstream = found
    channel = relay.get_hub().channel(upstream)
    channel.touch()
    prefix = reverse("live:hls", args=[token, "index.m3u8"]).removesuffix("index.m3u8")
    if isinstance(channel, IngestChannel):
        return await _ingest_hls(channel, path, prefix)
    try:
        if path == "index.m3u8" or (path.startswith("p/") and path.endswith(".m3u8")):
            url = upstream.url if path == "index.m3u8" else channel.url_for(path[2:-5])
            if url is None:
                return _refusal("not_found", 404)
            text = await channel.playlist(url, token, prefix)
            return _no_store(HttpResponse(text, content_type="application/vnd.apple.mpegurl"))
        url = channel.url_for(path[2:]) if path.startswith("s/") else None
        if url is None:
            return _refusal("not_found", 404)
        media_type, body = await channel.segment(url, token)
        return _no_store(HttpResponse(body, content_type=media_type))
    except relay.RelayError:
        return _json({"code": "camera_unavailable", "reason": _("The camera's stream is not available.")}, 502)


async def _ingest_hls(channel, path, prefix):
    """The embedded RTSP path's own playlist and segments (made by cameras/rtsp_ingest.py)."""
    if path == "index.m3u8":
        try:
            text = await channel.playlist(prefix)
        except relay.RelayError:
            return _json({"code": "camera_unavailable", "reason": _("The camera's stream is not available.")}, 502)
        return _no_store(HttpResponse(text, content_type="application/vnd.apple.mpegurl"))
    body = channel.segment(path[2:]) if path.startswith("s/") else None
    if body is None:
        return _refusal("not_found", 404)
    return _no_store(HttpResponse(body, content_type="video/mp2t"))


def _session_status(token, user):
    session = LiveSession.objects.with_token(token).filter(viewer=user).select_related("incident").first()
    if session is None:
        return None
    if not session.is_ended:
        live.live_session_authorize(token, viewer=user)
        session.refresh_from_db()
    status = live.live_session_status(session)
    if status["active"]:
        status["camera"] = relay.camera_state(session.camera_id)  # "reconnecting" while the relay retries it
    return status


async def _own_session_answer(request, token, act):
    """act(token, user) on the caller's own session, answered as its status (404 for anyone else's)."""
    user = await _staff_viewer(request)
    if user is None:
        return _refusal("no_permission")
    status = await sync_to_async(act)(token, user)
    return _refusal("not_found", 404) if status is None else _json(status)


@require_GET
async def live_status(request, token):
    """{active, code, reason, ends_at, camera} of the caller's own session; camera is "live" or, while the
    relay reconnects to it, "reconnecting"."""
    return await _own_session_answer(request, token, _session_status)


def _session_end(token, user):
    session = LiveSession.objects.with_token(token).filter(viewer=user).select_related("incident", "viewer").first()
    if session is None:
        return None
    live.live_session_end(session=session, code="stopped")
    session.refresh_from_db()
    return live.live_session_status(session)


@require_POST
async def live_end(request, token):
    """The viewer stops watching (the player calls this on pagehide). Ending twice is harmless."""
    return await _own_session_answer(request, token, _session_end)
