"""Oversight reads everything and changes nothing: every URL pattern of the project, walked from the resolver,
asked GET, POST, PUT, PATCH and DELETE by the oversight user, with path parameters naming real objects.

No row of any table may change (audit events aside: refusals are recorded), and every write is refused
(403, 405, 401, 404 or a redirect to sign in / to the staff home). A new URL whose parameters the table
below cannot fill makes the walk fail until it is taught how.
"""

import hashlib
import json
import re
import uuid
from datetime import timedelta

import pytest
from allauth.mfa.webauthn.internal.auth import WebAuthn
from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils import timezone
from django.utils.regex_helper import normalize
from django_q.models import OrmQ, Task

from cameras.live import live_session_start
from cameras.models import Camera
from cameras.services import stream_source_set
from cameras.tests.factories import CameraFactory
from incidents.models import UnitPosition
from incidents.services import integration_key_create
from portal.models import AuditEvent, OutboxEmail, WaiverSignature
from portal.tests.factories import OwnerFactory, sign_waiver
from portal.tests.passkeys import SoftPasskey
from requests_app import services, submissions
from requests_app.evidence_package import evidence_package_create, evidence_package_link_create
from requests_app.models import FootageRequest, Upload
from requests_app.tests.factories import IncidentFactory, finished_upload
from requests_app.tests.videos import make_mp4

pytestmark = pytest.mark.django_db

WRITES = ["post", "put", "patch", "delete"]
REFUSED = {401, 403, 404, 405}
# The person's own account: oversight members change their password, e-mail, language and
# two-factor devices like anyone. These are asked GET only; the rest of the walk covers everything else.
OWN_ACCOUNT = re.compile(r"^/(accounts/|account/$|i18n/setlang/$|admin/(login|logout|password_change)/)")
# Pages with nothing to write, which answer any method with the same page (and change nothing either).
READ_PAGES = {"/", "/staff/", "/healthz", "/favicon.ico", "/admin/"}
ADMIN_READ_PAGE = re.compile(r"^/admin/\w+/(\w+/((\w+)/(history/|(?P<change>change/)))?)?$")
# Writes sent with a body the endpoint understands, so that they reach its permission check.
BODIES = [
    (r"^/live/sessions/$", lambda w: {"data": json.dumps({"camera": w["camera"].pk, "incident": w["incident"].pk}),
                                      "content_type": "application/json"}),
    (r"^/requests/\d+/uploads/", lambda w: {"headers": {"Tus-Resumable": "1.0.0", "Upload-Length": "10",
                                                         "Upload-Offset": "0"}}),
    (r"^/api/v1/", lambda w: {"data": "{}", "content_type": "application/json"}),
]
# Rows that change for any signed-in request, none of them program data.
UNCHECKED_MODELS = {"portal.auditevent", "sessions.session"}
# A prosecutor's link works for whoever holds its token, signed in or not, and counts each download on
# the link (beside the audit event): not a power of the oversight role.
COUNTED_LINKS = {re.compile(r"^/evidence/packages/[^/]+/$"): "requests_app.evidencepackagelink"}


# What the browser is asked when a passkey is added (portal/tests/passkeys.py answers it).
REGISTRATION_OPTIONS = {"publicKey": {"rp": {"id": "localhost"}, "user": {"id": "MQ"}, "challenge": "Y2hhbGxlbmdl"}}


@pytest.fixture
def world(operator, officer, business, waivers, disk_footage):
    """One of everything: an integrated camera with a live session, an incident with a request, footage, a key."""
    sign_waiver(business)
    camera = CameraFactory(owner=business, access_level=Camera.AccessLevel.INTEGRATED, rules={"live_mode": "always"})
    stream_source_set(camera=camera, actor=business, kind="mjpeg", url="http://cam.example.net/video")
    incident = IncidentFactory(created_by=operator)
    incident.assigned_officers.set([officer])
    live = live_session_start(camera=Camera.objects.with_policy_facts().get(pk=camera.pk), viewer=operator,
                              incident=incident)
    owner = OwnerFactory()
    sign_waiver(owner)
    CameraFactory(owner=owner, latitude=incident.latitude, longitude=incident.longitude)
    end = timezone.now() - timedelta(hours=1)
    area_request = services.area_request_create(
        incident=incident, sender=operator, latitude=incident.latitude, longitude=incident.longitude,
        radius_m=100, window_start=end - timedelta(hours=1), window_end=end)
    footage_request = services.footage_request_approve(footage_request=FootageRequest.objects.get(owner=owner))
    upload = finished_upload(footage_request, lambda path: make_mp4(path, seconds=1))
    submission = submissions.submission_create(footage_request=footage_request, upload=upload, uploader=owner)
    submissions.submission_process(submission_id=submission.pk)
    pending = Upload.objects.create(scope=submissions.upload_scope(footage_request), filename="more.mp4", length=10,
                                    expires_at=timezone.now() + timedelta(days=1))
    key, _ = integration_key_create(name="County CAD", kind="cad")
    UnitPosition.objects.create(call_sign="A-12", officer=officer, latitude=incident.latitude,
                                longitude=incident.longitude, source="avl", recorded_at=timezone.now())
    OutboxEmail.objects.create(from_email="portal@example.org", to="someone@example.org", subject="Hello")
    for success in (True, False):  # a finished task and a failed one, for the task admin's pages
        Task.objects.create(id=uuid.uuid4().hex, name=f"task-{success}", func="math.floor", started=timezone.now(),
                            stopped=timezone.now(), success=success)
    OrmQ.objects.create(key="default", payload="queued", lock=timezone.now())
    package = evidence_package_create(incident=incident, actor=operator)
    package_link, package_token = evidence_package_link_create(package=package, actor=operator,
                                                               recipient="County prosecutor", days=7)
    passkey = WebAuthn.add(operator, "Operator's laptop", SoftPasskey().create(REGISTRATION_OPTIONS)).instance
    return {
        "passkey": passkey,
        "package": package, "package_link": package_link, "package_token": package_token,
        "camera": camera, "incident": incident, "area_request": area_request, "footage_request": footage_request,
        "submission": submission, "upload": pending, "token": live.token, "key": key,
        "signature": WaiverSignature.objects.filter(user=business).first(),
        "outbox": OutboxEmail.objects.get(subject="Hello"),
    }


# (pattern of the route with its parameters as %(name)s, parameter) → which object of the world fills it.
FILL = [
    (r"^cameras/%\(pk\)s/", "pk", lambda w: w["camera"].pk),
    (r"^api/v1/me/cameras/%\(pk\)s", "pk", lambda w: w["camera"].pk),
    (r"^api/v1/cameras/%\(pk\)s", "pk", lambda w: w["camera"].pk),
    (r"^staff/incidents/approvals/%\(pk\)s/", "pk", lambda w: w["area_request"].pk),
    (r"^staff/incidents/%\(pk\)s/", "pk", lambda w: w["incident"].pk),
    (r"^staff/incidents/%\(incident_pk\)s/", "incident_pk", lambda w: w["incident"].pk),
    (r"^requests/%\(pk\)s/", "pk", lambda w: w["footage_request"].pk),
    (r"^requests/.*%\(upload_id\)s", "upload_id", lambda w: w["upload"].pk),
    (r"^staff/evidence/packages/%\(pk\)s/", "pk", lambda w: w["package"].pk),
    (r"^staff/evidence/packages/.*%\(link_pk\)s/", "link_pk", lambda w: w["package_link"].pk),
    (r"^evidence/packages/%\(token\)s/", "token", lambda w: w["package_token"]),
    (r"^staff/evidence/%\(pk\)s/", "pk", lambda w: w["submission"].pk),
    (r"^waiver/signatures/%\(pk\)s/", "pk", lambda w: w["signature"].pk),
    (r"^dev/outbox/%\(pk\)s/", "pk", lambda w: w["outbox"].pk),
    (r"^oversight/flags/%\(slug\)s/", "slug", lambda w: "refusals"),
    (r"^live/%\(token\)s/", "token", lambda w: w["token"]),
    (r"^live/.*%\(path\)s", "path", lambda w: "index.m3u8"),
    (r"^r/%\(token\)s/", "token", lambda w: "not-a-real-link-token"),
    (r"^admin/%\(app_label\)s/", "app_label", lambda w: "portal"),
    (r"^admin/r/", "content_type_id", lambda w: _content_type_id("cameras", "camera")),
    (r"^admin/r/", "object_id", lambda w: w["camera"].pk),
    (r"^admin/%\(url\)s", "url", lambda w: "nowhere/"),
    (r"^accounts/2fa/webauthn/keys/%\(pk\)s/", "pk", lambda w: w["passkey"].pk),  # someone else's passkey
    (r"^accounts/", None, lambda w: "x"),  # allauth's keys and codes: any value, none is valid
]


def _content_type_id(app_label, model):
    from django.contrib.contenttypes.models import ContentType

    return ContentType.objects.get(app_label=app_label, model=model).pk


def admin_object(route, world):
    """An existing object of the admin page's model (/admin/<app>/<model>/<id>/...)."""
    match = re.match(r"^admin/(\w+)/(\w+)/", route)
    model = apps.get_model(match.group(1), match.group(2))
    existing = model._default_manager.order_by("pk").first()
    assert existing is not None, f"the walk builds no {model._meta.label} for {route}: add one to `world`"
    return existing.pk


def fill(route, params, world):
    values = {}
    for param in params:
        if param in ("object_id", "id") and re.match(r"^admin/\w+/\w+/", route):
            values[param] = admin_object(route, world)
            continue
        for pattern, name, value in FILL:
            if name in (param, None) and re.search(pattern, route):
                values[param] = value(world)
                break
        else:
            raise AssertionError(f"teach test_oversight_readonly.FILL how to fill {param!r} in {route!r}")
    return "/" + route % values


def walk(resolver=None, prefix=""):
    """Every URL pattern as (route format with %(param)s, its parameters)."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        regex = entry.pattern.regex.pattern.removeprefix("^")
        if isinstance(entry, URLResolver):
            yield from walk(entry, prefix + regex)
        elif isinstance(entry, URLPattern):
            route, params = normalize(prefix + regex)[0]
            yield route, params


def snapshot():
    """A digest of every table's rows (audit events and sessions aside), by model."""
    digests = {}
    for model in apps.get_models(include_auto_created=True):
        if model._meta.label_lower in UNCHECKED_MODELS or model._meta.proxy:
            continue
        rows = list(model._base_manager.order_by("pk").values_list())
        digests[model._meta.label_lower] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return digests


def changed(before, after):
    return sorted(label for label in after if before.get(label) != after[label])


def refused(response, url):
    """A write turned away: refused, not found, or sent to sign in, to the staff home or to the admin's index."""
    if response.status_code in REFUSED:
        return True
    location = response.get("Location", "")
    if response.status_code == 302:
        return location.startswith("/accounts/login/") or location in ("/staff/", "/admin/")
    return False


def shown_whatever_the_method(url, method):
    """Pages that answer any method with the same page: ours with nothing to write, and the admin's read-only
    pages for models oversight may view (its lists, history and read-only forms; a POST to a form is refused)."""
    if url in READ_PAGES:
        return True
    admin_page = ADMIN_READ_PAGE.match(url)
    return bool(admin_page) and not (method == "post" and admin_page.group("change"))


def admin_redirect_to_change_page(response, url):
    # /admin/<app>/<model>/<id>/ is Django's old address of the change page: it redirects there for any method.
    return response.status_code == 302 and response.get("Location") == f"{url}change/"


def test_the_walk_finds_every_part_of_the_site():
    routes = {route for route, _ in walk()}

    for expected in ["oversight/", "oversight/export.csv", "staff/incidents/%(pk)s/", "live/sessions/",
                     "admin/portal/auditevent/", "api/v1/cad/events/", "cameras/%(pk)s/rules/",
                     "staff/evidence/%(pk)s/file/", "accounts/login/"]:
        assert expected in routes
    assert len(routes) > 150


def test_oversight_changes_nothing_anywhere(client, login, oversight, world):
    login(client, oversight)
    problems = []
    checked = 0
    for route, params in walk():
        url = fill(route, params, world)
        resolve(url.split("?")[0])  # the filled URL is one the site answers
        methods = ["get"] if OWN_ACCOUNT.match(url) else ["get", *WRITES]
        before = snapshot()
        for method in methods:
            response = getattr(client, method)(url, **(body_for(url, world) if method != "get" else {}))
            _drain(response)
            checked += 1
            if method == "get" or shown_whatever_the_method(url, method) and response.status_code in (200, 301):
                continue
            if not (refused(response, url) or admin_redirect_to_change_page(response, url)):
                problems.append(f"{method.upper()} {url} → {response.status_code} (a write must be refused)")
        difference = [label for label in changed(before, snapshot())
                      if not any(pattern.match(url) and label == counted for pattern, counted in COUNTED_LINKS.items())]
        if difference:
            problems.append(f"{url} changed {', '.join(difference)}")

    assert problems == [], "\n".join(problems)
    assert checked > 600
    # Still signed in as oversight all along: no write was answered for someone else.
    assert client.get("/oversight/").status_code == 200


def body_for(url, world):
    return next((body(world) for pattern, body in BODIES if re.search(pattern, url)), {})


def _drain(response):
    # Read to the end: the test client closes a streaming response (and fires its signals) itself then.
    if getattr(response, "streaming", False):
        b"".join(response.streaming_content)


def test_oversight_reads_the_audit_log_but_sees_no_footage(client, login, oversight, world):
    login(client, oversight)
    submission = world["submission"]

    assert client.get("/oversight/").status_code == 200
    assert client.get("/admin/portal/auditevent/").status_code == 200
    for url in [f"/staff/evidence/{submission.pk}/file/?download=1", f"/staff/evidence/{submission.pk}/file/",
                f"/staff/evidence/{submission.pk}/custody/"]:
        assert client.get(url).status_code == 403, url
    assert not AuditEvent.objects.filter(action__in=["footage.downloaded", "footage.viewed"], actor=oversight).exists()


def test_the_walk_would_catch_a_change(client, login, supervisor, world):
    # The same checks, turned on a role that may write: its approval of a request changes rows and is not refused.
    login(client, supervisor)
    area_request = world["area_request"]
    area_request.status = "awaiting_approval"
    area_request.save(update_fields=["status"])
    url = fill("staff/incidents/approvals/%(pk)s/", ["pk"], world)
    before = snapshot()

    response = client.post(url, {"decision": "reject", "note": "too wide"})

    assert response.status_code == 302 and not refused(response, url)
    assert "requests_app.arearequest" in changed(before, snapshot())


@pytest.mark.parametrize("url", ["/oversight/", "/oversight/flags/", "/oversight/export.csv"])
def test_even_a_supervisor_cannot_post_to_the_desk(client, login, supervisor, url):
    login(client, supervisor)

    assert client.post(url).status_code == 405


def test_a_uuid_parameter_is_filled_with_a_real_upload(world):
    url = fill("requests/%(pk)s/uploads/%(upload_id)s/", ["pk", "upload_id"], world)

    assert uuid.UUID(url.rstrip("/").rsplit("/", 1)[1]) == world["upload"].pk
