"""A fake ONVIF Profile S camera for tests (no real camera can run here).

A real HTTP server in a thread on 127.0.0.1 answers the SOAP calls the portal makes, with
envelopes shaped like a real camera's: GetCapabilities on /onvif/device_service (Media XAddr
/onvif/media_service, reported on an inner address as cameras behind a router do), and GetProfiles
and GetStreamUri on /onvif/media_service. Every call must carry a WS-Security UsernameToken whose
PasswordDigest = Base64(SHA-1(nonce + created + password)) matches USERNAME / PASSWORD; anything else
gets the ter:NotAuthorized SOAP fault (HTTP 400) that cameras send.

    from cameras.tests.onvif_device import onvif_device_fixture  # noqa: F401

    def test_x(onvif_device): onvif_device.port, onvif_device.calls, onvif_device.stream_host = "10.1.2.3"

Other modes: onvif_device.mode = "html" (a plain web server: 404 HTML page), "silent" (accepts the
connection and never answers).
"""

import base64
import hashlib
import re
import threading
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

HOST = "127.0.0.1"
USERNAME = "onvif-admin"
PASSWORD = "Cam3ra!pass"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
SOAP = "http://www.w3.org/2003/05/soap-envelope"

PROFILES = [
    ("profile_1", "MainStream", "H264", 1920, 1080, "/Streaming/Channels/101"),
    ("profile_2", "SubStream", "H264", 640, 360, "/Streaming/Channels/102"),
]

ENVELOPE = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" '
    'xmlns:tds="http://www.onvif.org/ver10/device/wsdl" xmlns:trt="http://www.onvif.org/ver10/media/wsdl" '
    'xmlns:tt="http://www.onvif.org/ver10/schema" xmlns:ter="http://www.onvif.org/ver10/error">'
    "<env:Header/><env:Body>{body}</env:Body></env:Envelope>"
)
NOT_AUTHORIZED = (
    "<env:Fault><env:Code><env:Value>env:Sender</env:Value><env:Subcode><env:Value>ter:NotAuthorized</env:Value>"
    "</env:Subcode></env:Code><env:Reason><env:Text xml:lang=\"en\">Sender not Authorized</env:Text></env:Reason>"
    "</env:Fault>"
)

ACTION_NOT_SUPPORTED = (
    "<env:Fault><env:Code><env:Value>env:Receiver</env:Value><env:Subcode><env:Value>ter:ActionNotSupported"
    "</env:Value></env:Subcode></env:Code><env:Reason><env:Text xml:lang=\"en\">Optional Action Not Implemented"
    "</env:Text></env:Reason></env:Fault>"
)


class FakeOnvifDevice:
    def __init__(self):
        self.mode = "onvif"
        self.stream_host = None  # the host named in stream addresses; default the device's own
        self.stream_hosts = {}  # the same for one profile token
        # False: GetCapabilities is refused (ter:ActionNotSupported) and the Media calls are answered
        # on the device service's address, as some cameras do.
        self.capabilities = True
        self.calls = []  # (path, operation, authorized)
        self.stopped = threading.Event()
        self.server = ThreadingHTTPServer((HOST, 0), self._handler())
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    def stop(self):
        self.stopped.set()
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        device = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                self._html_404()

            def do_POST(self):
                if device.mode == "silent":
                    device.stopped.wait(30)
                    return
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if device.mode == "html":
                    self._html_404()
                    return
                operation, request = _operation(body)
                authorized = _digest_ok(request)
                device.calls.append((self.path, operation, authorized))
                if not authorized:
                    self._soap(400, NOT_AUTHORIZED)
                    return
                if operation == "GetCapabilities" and not device.capabilities:
                    self._soap(500, ACTION_NOT_SUPPORTED)
                    return
                answer = device.answer(self.path, operation, request)
                if answer is None:
                    self._html_404()
                    return
                self._soap(200, answer)

            def _soap(self, status, body):
                data = ENVELOPE.format(body=body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/soap+xml; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _html_404(self):
                data = b"<!DOCTYPE html><html><body><h1>404 Not Found</h1></body></html>"
                self.send_response(404)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def answer(self, path, operation, request):
        if path == "/onvif/device_service" and operation == "GetCapabilities":
            # Reported on the camera's inner address, as a camera behind a router does.
            return ("<tds:GetCapabilitiesResponse><tds:Capabilities><tt:Media>"
                    "<tt:XAddr>http://192.168.1.64/onvif/media_service</tt:XAddr>"
                    "<tt:StreamingCapabilities><tt:RTP_TCP>true</tt:RTP_TCP></tt:StreamingCapabilities>"
                    "</tt:Media></tds:Capabilities></tds:GetCapabilitiesResponse>")
        media_path = "/onvif/media_service" if self.capabilities else "/onvif/device_service"
        if path != media_path:
            return None
        if operation == "GetProfiles":
            profiles = "".join(
                f'<trt:Profiles token="{token}" fixed="true"><tt:Name>{name}</tt:Name>'
                f'<tt:VideoEncoderConfiguration token="venc_{token}"><tt:Name>{name}</tt:Name>'
                f"<tt:Encoding>{codec}</tt:Encoding><tt:Resolution><tt:Width>{width}</tt:Width>"
                f"<tt:Height>{height}</tt:Height></tt:Resolution><tt:Quality>5</tt:Quality>"
                "</tt:VideoEncoderConfiguration></trt:Profiles>"
                for token, name, codec, width, height, _path in PROFILES
            )
            return f"<trt:GetProfilesResponse>{profiles}</trt:GetProfilesResponse>"
        if operation == "GetStreamUri":
            token = request.findtext(".//{http://www.onvif.org/ver10/media/wsdl}ProfileToken")
            stream = request.findtext(".//{http://www.onvif.org/ver10/schema}Stream")
            protocol = request.findtext(".//{http://www.onvif.org/ver10/schema}Protocol")
            paths = {profile[0]: profile[5] for profile in PROFILES}
            if token not in paths or stream != "RTP-Unicast" or protocol != "RTSP":
                return None
            host = self.stream_hosts.get(token) or self.stream_host or HOST
            return ("<trt:GetStreamUriResponse><trt:MediaUri>"
                    f"<tt:Uri>rtsp://{host}:554{paths[token]}?transportmode=unicast</tt:Uri>"
                    "<tt:InvalidAfterConnect>false</tt:InvalidAfterConnect><tt:InvalidAfterReboot>false"
                    "</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout></trt:MediaUri>"
                    "</trt:GetStreamUriResponse>")
        return None


def _operation(body):
    try:
        root = ET.fromstring(body)  # noqa: S314  (the test's own requests)
    except ET.ParseError:
        return "", None
    soap_body = root.find(f"{{{SOAP}}}Body")
    if soap_body is None or len(soap_body) == 0:
        return "", root
    return re.sub(r"^\{.*\}", "", soap_body[0].tag), root


def _digest_ok(request):
    if request is None:
        return False
    token = request.find(f".//{{{WSSE}}}UsernameToken")
    if token is None:
        return False
    username = token.findtext(f"{{{WSSE}}}Username")
    password = token.find(f"{{{WSSE}}}Password")
    nonce = token.findtext(f"{{{WSSE}}}Nonce")
    created = token.findtext(f"{{{WSU}}}Created")
    if username != USERNAME or password is None or not nonce or not created:
        return False
    if not password.get("Type", "").endswith("#PasswordDigest"):
        return False
    # SHA-1 because ONVIF prescribes it.
    digest = hashlib.sha1(base64.b64decode(nonce) + created.encode() + PASSWORD.encode()).digest()  # noqa: S324
    expected = base64.b64encode(digest).decode()
    return password.text == expected


@pytest.fixture(name="onvif_device")
def onvif_device_fixture():
    device = FakeOnvifDevice()
    yield device
    device.stop()
