import pytest

# Local camera servers (MJPEG, snapshots, HLS, RTSP) for stream tests, requested by fixture name.
from cameras.tests.stream_server import (  # noqa: F401
    rtsp_server_fixture,
    rtsp_server_with_auth_fixture,
    stream_server_fixture,
    tls_stream_server_fixture,
)

# --- The live relay, served by a real daphne child ------------------------------------------

GATEWAY_TEMPLATE = "/{path}/index.m3u8"
RELAY_RECHECK_SECONDS = 1


def _relay_child_setup(db_blocker, footage_root, gateway_url):
    """The usual ASGI child set-up, plus what the relay tests need: loopback cameras and a gateway."""
    from django.test.utils import override_settings

    from conftest import _asgi_child_setup

    _asgi_child_setup(db_blocker, footage_root)
    override_settings(STREAM_ALLOWED_NETWORKS=["127.0.0.1/32"], LIVE_RECHECK_SECONDS=RELAY_RECHECK_SECONDS,
                      MEDIA_GATEWAY_HLS_URL=gateway_url, MEDIA_GATEWAY_PUBLISH_SECRET="").enable()


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
    import shutil
    import tempfile
    from functools import partial
    from pathlib import Path

    from channels.testing.live import make_application
    from daphne.testing import DaphneProcess
    from django.conf import settings
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
    from django.db import connections

    if settings.DATABASES["default"]["NAME"].startswith(("file:memorydb", ":memory:")):
        pytest.skip("the relay server needs a file or server database")
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]
    footage_root = Path(tempfile.mkdtemp(prefix="portal-test-relay-"))
    gateway_url = gateway_server.url(GATEWAY_TEMPLATE)
    process = DaphneProcess("localhost", partial(make_application, static_wrapper=ASGIStaticFilesHandler),
                            setup=partial(_relay_child_setup, django_db_blocker, footage_root, gateway_url))
    # SQLite's state must not cross fork(): an inherited open database leaves the child reading
    # stale snapshots once the parent flushes tables between tests.
    with django_db_blocker.unblock():
        connections.close_all()
    process.start()
    if not process.ready.wait(timeout=30):
        raise RuntimeError("daphne did not start")

    class Server:
        url = f"http://localhost:{process.port.value}"
        pid = process.pid
        gateway = gateway_server

    yield Server
    process.terminate()
    process.join()
    shutil.rmtree(footage_root, ignore_errors=True)
