
# Local camera servers (MJPEG, snapshots, HLS, RTSP) for stream tests, requested by fixture name.
from cameras.tests.stream_server import (  # noqa: F401
    rtsp_server_fixture,
    rtsp_server_with_auth_fixture,
    stream_server_fixture,
    tls_stream_server_fixture,
)

