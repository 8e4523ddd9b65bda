"""What the accessibility browser tests share: the pages people use, by who uses them, and axe-core's check.

SCREENS lists every page a person opens, under the named URL that serves it; NOT_PAGES names every other
URL with the reason it is no page (JSON, files, POST-only actions). test_every_named_url_is_checked_or_excluded
fails when a URL is added to the URLconfs without being put in one or the other.
"""

import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

from allauth.account.forms import default_token_generator
from allauth.account.internal.flows.login import (
    _AUTHENTICATION_METHODS_USER_SESSION_KEY as AUTHENTICATION_METHODS_USER_SESSION_KEY,
)
from allauth.account.internal.flows.login import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from allauth.account.utils import user_pk_to_url_str
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.webauthn.internal.auth import WebAuthn
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from conftest import screenshot_taker, sign_in
from portal.tests.passkeys import SoftPasskey

# WCAG 2.2 level A and AA, as axe-core tags them.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING_IMPACTS = {"serious", "critical"}
LANGUAGES = ["en", "es"]


@dataclass(frozen=True)
class Screen:
    """A page to check: the URL name that serves it, how to reach it in `world`, what to wait for first."""

    url_name: str
    path: object  # a path, or a function of the world returning one
    ready: str = ""  # a selector present once the page's scripts have drawn it
    label: str = ""  # when one URL is checked in more than one state
    debug: bool = False  # development pages (the outbox) exist only with DEBUG on
    status: int = 200  # what the page answers (error pages are pages too)
    lands: str = ""  # the path it redirects to, when it does (else the page must stay where it was opened)
    shot: str = ""  # a screenshot's name, for the few pages whose Spanish version is saved to look at

    def path_in(self, world):
        return self.path(world) if callable(self.path) else self.path

    @property
    def title(self):
        return f"{self.url_name}{f' ({self.label})' if self.label else ''}"


# Pages anyone opens without an account, and the pages reached from an e-mail.
PUBLIC = [
    Screen("portal:home", "/", shot="home"),
    Screen("portal:transparency", "/transparency/", ready=".transparency-chart canvas", shot="transparency"),
    Screen("account_login", "/accounts/login/"),
    Screen("admin_login", "/admin/login/", lands="/accounts/login/"),  # sends the admin's sign-in to allauth's page
    Screen("account_signup", "/accounts/signup/", shot="signup"),
    Screen("account_email_verification_sent", "/accounts/confirm-email/"),
    Screen("account_confirm_email", lambda world: f"/accounts/confirm-email/{world.confirmation_key}/"),
    Screen("account_inactive", "/accounts/inactive/"),
    Screen("account_reset_password", "/accounts/password/reset/"),
    Screen("account_reset_password_done", "/accounts/password/reset/done/"),
    Screen("account_reset_password_from_key", lambda world: world.reset_path, lands="/accounts/password/reset/key/"),
    Screen("account_reset_password_from_key", "/accounts/password/reset/key/1-expired/", label="a bad link"),
    Screen("account_reset_password_from_key_done", "/accounts/password/reset/key/done/"),
    Screen("requests_app:link", "/r/no-such-token/", label="an unknown link", status=404),
    Screen("requests_app:link", lambda world: f"/r/{world.expired_token}/", label="an expired link", status=410),
    Screen("requests_app:shared_package", "/evidence/packages/no-such-token/", label="an unknown link",
           status=404),
    Screen("portal:outbox", "/dev/outbox/", debug=True),
    Screen("portal:outbox_detail", lambda world: f"/dev/outbox/{world.outbox_email.pk}/", debug=True),
    Screen("", "/no-such-page/", label="page not found", status=404),
]

# Pages a camera owner uses, signed in (and the answer pages their e-mailed link opens).
OWNER = [
    Screen("portal:dashboard", "/dashboard/", shot="dashboard"),
    Screen("portal:waiver_sign", "/waiver/"),
    Screen("portal:waiver_signature", lambda world: f"/waiver/signatures/{world.signature.pk}/"),
    Screen("cameras:create", "/cameras/new/", ready=".leaflet-container", shot="camera-new"),
    Screen("cameras:edit", lambda world: f"/cameras/{world.porch.pk}/edit/", ready=".leaflet-container"),
    Screen("cameras:rules", lambda world: f"/cameras/{world.porch.pk}/rules/", label="a registered camera"),
    Screen("cameras:delete", lambda world: f"/cameras/{world.porch.pk}/delete/"),
    Screen("portal:access_log", "/access-log/"),
    Screen("requests_app:answer", lambda world: f"/requests/{world.pending_request.pk}/", label="to answer",
           shot="request"),
    Screen("requests_app:link", lambda world: f"/r/{world.pending_token}/", label="opened from the e-mail",
           lands="/requests/"),
    Screen("requests_app:answer", lambda world: f"/requests/{world.approved_request.pk}/", label="upload",
           shot="request-upload"),
    Screen("portal:account", "/account/"),
    Screen("portal:account_close", "/account/close/"),
    Screen("portal:my_data", "/account/my-data/"),
    Screen("account_email", "/accounts/email/"),
    Screen("account_change_password", "/accounts/password/change/"),
    Screen("account_set_password", "/accounts/password/set/", lands="/accounts/password/change/"),  # has a password
    Screen("account_reauthenticate", "/accounts/reauthenticate/"),
    Screen("mfa_index", "/accounts/2fa/"),
    Screen("mfa_activate_totp", "/accounts/2fa/totp/activate/"),
    Screen("account_logout", "/accounts/logout/"),
]

# A business owner's, whose camera police may watch live under the owner's rules.
BUSINESS = [
    Screen("portal:dashboard", "/dashboard/", label="a business"),
    Screen("portal:waiver_sign", "/waiver/", label="a business"),
    Screen("cameras:rules", lambda world: f"/cameras/{world.shop.pk}/rules/", label="an integrated camera",
           shot="rules-integrated"),
    Screen("cameras:stream", lambda world: f"/cameras/{world.shop.pk}/stream/"),
]

# Pages of police staff: an operator, who sends requests and watches live.
OPERATOR = [
    Screen("portal:staff_home", "/staff/"),
    Screen("incidents:list", "/staff/incidents/"),
    Screen("incidents:new", "/staff/incidents/new/", ready=".leaflet-container"),
    Screen("incidents:detail", lambda world: f"/staff/incidents/{world.incident.pk}/",
           ready="[data-live-socket][data-live-connected=true]", shot="incident"),
    Screen("incidents:live", lambda world: f"/staff/incidents/{world.incident.pk}/live/"),
    Screen("incidents:rtcc", "/staff/incidents/rtcc/", ready="[data-rtcc][data-map-loaded='true']", shot="rtcc"),
    Screen("incidents:feed", "/staff/incidents/feed/"),
    Screen("requests_app:custody_report", lambda world: f"/staff/evidence/{world.submission.pk}/custody/"),
    Screen("requests_app:package_new", lambda world: f"/staff/incidents/{world.incident.pk}/evidence-packages/"),
    Screen("requests_app:package", lambda world: f"/staff/evidence/packages/{world.package.pk}/"),
    Screen("mfa_reauthenticate", "/accounts/2fa/reauthenticate/"),
    Screen("mfa_view_recovery_codes", "/accounts/2fa/recovery-codes/"),
    Screen("mfa_generate_recovery_codes", "/accounts/2fa/recovery-codes/generate/"),
    Screen("mfa_deactivate_totp", "/accounts/2fa/totp/deactivate/"),
]

# An officer's phone view of the incidents assigned to them.
OFFICER = [
    Screen("incidents:officer", "/staff/incidents/mine/"),
]

# A supervisor: approvals, legal holds and the administration pages this project adds.
SUPERVISOR = [
    Screen("incidents:approvals", "/staff/incidents/approvals/"),
    Screen("requests_app:hold", lambda world: f"/staff/evidence/{world.submission.pk}/hold/"),
    Screen("admin:index", "/admin/"),
    Screen("admin:cameras_camera_changelist", "/admin/cameras/camera/"),
    Screen("admin:cameras_camera_map", "/admin/cameras/camera/map/", ready="#all-cameras-map .leaflet-interactive",
           shot="admin-camera-map"),
    # The supervisor signs in with a passkey (the operator with the app).
    Screen("mfa_list_webauthn", "/accounts/2fa/webauthn/"),
    Screen("mfa_add_webauthn", "/accounts/2fa/webauthn/add/"),
    Screen("mfa_edit_webauthn", lambda world: f"/accounts/2fa/webauthn/keys/{world.passkey.pk}/edit/"),
    Screen("passkey_remove", lambda world: f"/accounts/2fa/webauthn/keys/{world.passkey.pk}/remove/"),
    Screen("mfa_reauthenticate_webauthn", "/accounts/2fa/webauthn/reauthenticate/"),
]

# The oversight desk.
OVERSIGHT = [
    Screen("portal:oversight", "/oversight/", shot="oversight"),
    Screen("portal:oversight_flags", "/oversight/flags/"),
    Screen("portal:oversight_flag", "/oversight/flags/refusals/"),
]

# The second step of a staff member's sign-in, checked on its own (it needs a sign-in half done).
SIGN_IN_CODE = Screen("mfa_authenticate", "/accounts/2fa/authenticate/")

SCREENS = {"public": PUBLIC, "owner": OWNER, "business": BUSINESS, "operator": OPERATOR, "officer": OFFICER,
           "supervisor": SUPERVISOR, "oversight": OVERSIGHT}

# Every other named URL, with why no one reads it as a page.
NOT_PAGES = {
    "portal:my_data_json": "a JSON download",
    "portal:my_data_csv": "a CSV download",
    "portal:oversight_export": "a CSV download",
    "portal:account_notices": "POST only; answers with a redirect to the account page",
    "portal:healthz": "a JSON health check for the load balancer",
    "portal:favicon": "the icon",
    "cameras:stream_test": "POST only, answers JSON to the stream page's script",
    "cameras:stream_onvif": "POST only; shows the stream page, checked as cameras:stream",
    "cameras:pause": "POST only; answers with a redirect to the dashboard",
    "cameras:geocode": "JSON for the address search",
    "live:sessions": "JSON for the live player",
    "live:mjpeg": "a video stream",
    "live:snapshot": "a JPEG",
    "live:hls": "video segments",
    "live:status": "JSON for the live player",
    "live:end": "POST only, JSON for the live player",
    "requests_app:approve": "POST only; answers with a redirect to the answer page",
    "requests_app:decline": "POST only; answers with a redirect to the answer page",
    "requests_app:uploads": "the tus upload endpoint",
    "requests_app:upload": "the tus upload endpoint",
    "requests_app:evidence_file": "a video file",
    "requests_app:package_download": "a ZIP file",
    "requests_app:package_link_create": "POST only; shows the package page, checked as requests_app:package",
    "requests_app:package_link_revoke": "POST only; answers with a redirect to the package page",
    "incidents:rtcc_map": "JSON for the RTCC map",
    "incidents:preview": "JSON for the incident map",
    "incidents:send_request": "POST only; answers with a redirect to the incident page",
    "incidents:decide": "POST only; answers with a redirect to the approvals page",
    "account_confirm_login_code": "sign-in by e-mailed code is off (ACCOUNT_LOGIN_BY_CODE_ENABLED)",
    "mfa_download_recovery_codes": "a text file",
    "mfa_remove_webauthn": "allauth's removal page, served at its address by portal.views.passkey_remove",
    "set_language": "POST only; answers with a redirect to the page the language was changed on",
    "api-schema": "the OpenAPI schema (YAML)",
    "api-docs": "Swagger UI's own page, for developers, not a page of this project's templates",
}
NOT_PAGES_PREFIXES = {
    "api-": "the REST API (JSON and CSV)",
    "my-camera-": "the REST API (JSON)",
    "staff-camera-": "the REST API (JSON)",
    "admin:": "Django's stock admin pages; the ones this project adds or changes are in SUPERVISOR",
}


def named_urls():
    """Every named URL of the project, namespaced ("cameras:edit")."""

    def walk(patterns, namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                yield from walk(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern) and pattern.name:
                yield f"{namespace}{pattern.name}"

    return set(walk(get_resolver().url_patterns))


def why_not_a_page(url_name):
    if url_name in NOT_PAGES:
        return NOT_PAGES[url_name]
    return next((reason for prefix, reason in NOT_PAGES_PREFIXES.items() if url_name.startswith(prefix)), None)


# --- The data the pages show ---------------------------------------------------------------------------------

@dataclass
class World:
    """One of each thing the pages show, made through the project's services."""

    owner: object
    business: object
    operator: object
    officer: object
    supervisor: object
    oversight: object
    porch: object = None
    shop: object = None
    signature: object = None
    passkey: object = None
    incident: object = None
    pending_request: object = None
    pending_token: str = ""
    approved_request: object = None
    expired_token: str = ""
    submission: object = None
    package: object = None
    outbox_email: object = None
    confirmation_key: str = ""
    reset_path: str = ""
    extra: dict = field(default_factory=dict)


def _request_token(owner):
    from portal.models import OutboxEmail

    email = OutboxEmail.objects.filter(to=owner.email).order_by("-pk").first()
    return re.search(r"/r/([\w-]+)/", email.body_text).group(1)


def build_world(*, owner, business, operator, officer, supervisor, oversight, capture):
    """The owners' cameras and signatures, an incident with a request waiting, one answered with a video,
    an evidence package, a request above the limits waiting for a supervisor, an e-mail in the outbox."""
    from cameras.models import Camera
    from cameras.services import stream_source_set
    from cameras.tests.factories import CameraFactory
    from portal.audit import audit_record
    from portal.models import OutboxEmail, User
    from portal.tests.factories import sign_waiver
    from requests_app import services
    from requests_app.evidence_package import evidence_package_create
    from requests_app.models import FootageRequest
    from requests_app.retention import footage_hold_place
    from requests_app.tests.factories import IncidentFactory, finished_upload, submit
    from requests_app.tests.videos import make_mp4

    world = World(owner=owner, business=business, operator=operator, officer=officer, supervisor=supervisor,
                  oversight=oversight)
    world.signature = sign_waiver(owner)
    sign_waiver(business)
    world.porch = CameraFactory(owner=owner, name="Porch", latitude=40.7130, longitude=-74.0060)
    world.shop = CameraFactory(owner=business, name="Shop door", access_level=Camera.AccessLevel.INTEGRATED,
                               latitude=40.7131, longitude=-74.0061,
                               rules={"live_mode": "always", "notify_on_live_view": True})
    stream_source_set(camera=world.shop, actor=business, kind="mjpeg", url="http://127.0.0.1:9/cam/mjpeg")

    world.incident = IncidentFactory(address="400 Market St", case_number="RPD-26-1001")
    world.incident.assigned_officers.add(officer)
    end = timezone.now() - timedelta(hours=1)
    window = {"window_start": end - timedelta(hours=1), "window_end": end}
    services.area_request_create(incident=world.incident, sender=operator, latitude=world.incident.latitude,
                                 longitude=world.incident.longitude, radius_m=100, message="A grey van.", **window)
    answered = FootageRequest.objects.get(owner=owner, area_request__incident=world.incident)
    world.approved_request = services.footage_request_approve(footage_request=answered)
    world.submission = submit(world.approved_request,
                              finished_upload(world.approved_request, lambda path: make_mp4(path, seconds=1)),
                              capture)
    RecoveryCodes.activate(operator)
    registration = {"publicKey": {"rp": {"id": "localhost"}, "user": {"id": "MQ"}, "challenge": "Y2hhbGxlbmdl"}}
    world.passkey = WebAuthn.add(supervisor, "Supervisor's laptop", SoftPasskey().create(registration)).instance
    RecoveryCodes.activate(supervisor)
    footage_hold_place(submission=world.submission, actor=supervisor, reason="Court case RPD-26-1001")
    world.package = evidence_package_create(incident=world.incident, actor=operator)

    second = IncidentFactory(address="12 Oak Ave", incident_type="vandalism")
    services.area_request_create(incident=second, sender=operator, latitude=second.latitude,
                                 longitude=second.longitude, radius_m=100, **window)
    world.pending_request = FootageRequest.objects.get(owner=owner, area_request__incident=second)
    world.pending_token = _request_token(owner)
    world.outbox_email = OutboxEmail.objects.filter(to=owner.email).order_by("-pk").first()

    old = IncidentFactory(address="9 Mill Rd")
    services.area_request_create(incident=old, sender=operator, latitude=old.latitude, longitude=old.longitude,
                                 radius_m=100, **window)
    world.expired_token = _request_token(owner)
    FootageRequest.objects.filter(owner=owner, area_request__incident=old).update(
        expires_at=timezone.now() - timedelta(days=1))

    over = IncidentFactory(address="1815 Market St")
    services.area_request_create(incident=over, sender=operator, latitude=over.latitude, longitude=over.longitude,
                                 radius_m=settings.AREA_REQUEST_MAX_RADIUS_M + 100, **window)
    for _ in range(3):  # a burst of refusals, for the oversight flag
        audit_record(action="live.access", actor=officer, camera=world.shop, outcome="denied",
                     details={"code": "live_never"})

    newcomer = User.objects.create_user(email="newcomer@example.org", password="lantern-orchard-41",
                                        full_name="Nell Newcomer")
    address = EmailAddress.objects.create(user=newcomer, email=newcomer.email, verified=False, primary=True)
    world.confirmation_key = EmailConfirmationHMAC(address).key
    world.reset_path = (f"/accounts/password/reset/key/{user_pk_to_url_str(owner)}-"
                        f"{default_token_generator.make_token(owner)}/")
    return world


# --- Browsing ---------------------------------------------------------------------------------------------

def browser_context(browser, server_url, *, language, user=None):
    """A browser context in `language` (the cookie the language switch sets), signed in as `user` if given
    (staff with a session that passed their second factor, as conftest.sign_in makes it)."""
    context = browser.new_context(base_url=server_url, viewport={"width": 1280, "height": 900})
    cookies = [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": server_url}]
    if user is not None:
        client = sign_in(Client(), user)
        # As if the password was just confirmed on the re-authentication page (checked on its own), which the
        # two-factor pages ask for first.
        session = client.session
        session[AUTHENTICATION_METHODS_SESSION_KEY] = [{"method": "password", "at": time.time(), "email": user.email,
                                                       "reauthenticated": True}]
        session[AUTHENTICATION_METHODS_USER_SESSION_KEY] = str(user.pk)
        session.save()
        session = session.session_key
        cookies += [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": server_url},
                    {"name": settings.CSRF_COOKIE_NAME, "value": secrets.token_hex(16), "url": server_url}]
    context.add_cookies(cookies)
    return context


AXE = Axe()
# WCAG 2.5.8's "equivalent" exception: the RTCC map's incident markers and camera clusters sit where the
# incidents and cameras are, so they may overlap; each offers its action through another control on the page
# that meets the size rule (an incident's link in the alert list beside the map; a cluster zooms in, as the
# map's zoom buttons do). axe-core cannot know that, so those two kinds of marker are not held to the size rule.
EQUIVALENT_ELSEWHERE = ".rtcc-incident-icon, .marker-cluster"


def axe_violations(page):
    """axe-core's WCAG 2.2 A/AA violations on the page as it is now (less the exception above)."""
    results = AXE.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]})
    violations = []
    for violation in results.response["violations"]:
        if violation["id"] == "target-size":
            violation["nodes"] = [node for node in violation["nodes"] if not _equivalent_elsewhere(page, node)]
        if violation["nodes"]:
            violations.append(violation)
    return violations


def _selector(node):
    target = node["target"][0]
    return " ".join(target) if isinstance(target, list) else target


def _equivalent_elsewhere(page, node):
    return page.locator(_selector(node)).first.evaluate(f"e => e.closest({EQUIVALENT_ELSEWHERE!r}) !== null")


def describe(title, violation):
    targets = ", ".join(_selector(node) for node in violation["nodes"][:4])
    count = len(violation["nodes"])
    return f"{title}: {violation['id']} ({violation['impact']}, {count}×) {violation['help']} — {targets}"


def check_screen(page, screen, world, language, settings):
    """Open the screen and return its blocking violations, described; every violation is printed."""
    settings.DEBUG = screen.debug  # the live server runs in this process, so it reads this at once
    path = screen.path_in(world)
    response = page.goto(path)
    assert response is not None
    page.wait_for_load_state("load")
    if screen.ready:
        page.locator(screen.ready).first.wait_for(state="attached")
    lang = page.locator("html").get_attribute("lang")
    title = f"[{language}] {screen.title} at {urlsplit(page.url).path}"
    problems = []
    if response.status != screen.status:
        problems.append(f"{title}: answered {response.status}, not {screen.status}")
    if not urlsplit(page.url).path.startswith(screen.lands or urlsplit(path).path):
        problems.append(f"{title}: opened {path}, landed elsewhere")
    if lang != language:
        problems.append(f"{title}: the page says lang={lang!r}")
    if screen.shot and language == "es":
        screenshot_taker(page)(f"a11y-{language}-{screen.shot}")
    for violation in axe_violations(page):
        print(describe(title, violation))
        if violation["impact"] in BLOCKING_IMPACTS:
            problems.append(describe(title, violation))
    return problems
