"""A real RTSP camera for the tests: GStreamer's RTSP server sending a live test pattern.

Run with the system Python, which has PyGObject (the project's virtualenv does not):

    /usr/bin/python3 cameras/tests/gst_rtsp_camera.py [--port N] [--codec h264|jpeg] [--username U --password P]
        [--tls-cert server.pem --tls-key server.key]

It serves rtsp://127.0.0.1:<port>/cam (rtsps:// with --tls-cert: RTSP over TLS, media interleaved),
prints "PORT <n> <encoder>" once it listens, and "CLIENT" each time a client connects, so a test can
count upstream connections. It stops on SIGTERM or when stdin closes.
"""

import argparse
import signal
import sys
import threading

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import Gio, GLib, Gst, GstRtspServer  # noqa: E402

WIDTH, HEIGHT, FPS = 320, 240, 15


def h264_encoder():
    """openh264enc (plugins-bad) when present, else x264enc (plugins-ugly)."""
    if Gst.ElementFactory.find("openh264enc") is not None:
        return f"openh264enc gop-size={FPS * 2} rate-control=bitrate bitrate=400000"
    if Gst.ElementFactory.find("x264enc") is not None:
        return f"x264enc tune=zerolatency speed-preset=ultrafast key-int-max={FPS * 2}"
    sys.exit("No H.264 encoder: install gstreamer1.0-plugins-ugly (x264enc) or gstreamer1.0-plugins-bad (openh264enc)")


def launch_line(codec):
    source = (f"videotestsrc is-live=true pattern=ball ! video/x-raw,width={WIDTH},height={HEIGHT},"
              f"framerate={FPS}/1 ! clockoverlay ! videoconvert")
    if codec == "jpeg":
        return f"( {source} ! video/x-raw,format=I420 ! jpegenc quality=70 ! rtpjpegpay name=pay0 pt=26 )"
    return f"( {source} ! {h264_encoder()} ! h264parse ! rtph264pay name=pay0 pt=96 config-interval=-1 )"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--codec", choices=("h264", "jpeg"), default="h264")
    parser.add_argument("--username", default="")
    parser.add_argument("--password", default="")
    parser.add_argument("--tls-cert", default="")
    parser.add_argument("--tls-key", default="")
    arguments = parser.parse_args()

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(arguments.port))
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(launch_line(arguments.codec))
    factory.set_shared(True)
    if arguments.username or arguments.tls_cert:
        # With an RTSPAuth in place, clients need a token with a role the factory grants access to.
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, "viewer")
        if arguments.username:
            auth.add_basic(GstRtspServer.RTSPAuth.make_basic(arguments.username, arguments.password), token)
        else:
            auth.set_default_token(token)
        if arguments.tls_cert:
            auth.set_tls_certificate(Gio.TlsCertificate.new_from_files(arguments.tls_cert, arguments.tls_key))
        server.set_auth(auth)
        permissions = GstRtspServer.RTSPPermissions()
        permissions.add_role_from_structure(Gst.Structure.new_from_string(
            "viewer, media.factory.access=(boolean)true, media.factory.construct=(boolean)true"))
        factory.set_permissions(permissions)
    server.get_mount_points().add_factory("/cam", factory)
    server.connect("client-connected", lambda *_args: print("CLIENT", flush=True))
    if server.attach(None) == 0:
        sys.exit("The RTSP server could not listen")
    encoder = "jpegenc" if arguments.codec == "jpeg" else h264_encoder().split()[0]
    print(f"PORT {server.get_bound_port()} {encoder}", flush=True)

    loop = GLib.MainLoop()
    signal.signal(signal.SIGTERM, lambda *_args: GLib.idle_add(loop.quit))
    # The test process going away closes our stdin: stop then too, never outliving the suite.
    threading.Thread(target=lambda: (sys.stdin.read(), GLib.idle_add(loop.quit)), daemon=True).start()
    loop.run()


if __name__ == "__main__":
    main()
