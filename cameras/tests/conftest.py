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
    from conftest import AsgiServer

    server = AsgiServer(django_db_blocker, STREAM_ALLOWED_NETWORKS=["127.0.0.1/32"],
                        LIVE_RECHECK_SECONDS=RELAY_RECHECK_SECONDS,
                        MEDIA_GATEWAY_HLS_URL=gateway_server.url(GATEWAY_TEMPLATE), MEDIA_GATEWAY_PUBLISH_SECRET="")
    server.gateway = gateway_server
    yield server
    server.stop()
