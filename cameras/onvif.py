"""Finding a camera's RTSP address with ONVIF Profile S.

A business types the camera's address, port and ONVIF user; the portal asks the camera, in order:
GetCapabilities (Device service) for where its Media service is, GetProfiles (Media service), and
GetStreamUri (RTP-Unicast over RTSP) for each profile. Every request carries a WS-Security
UsernameToken with a password digest: Base64(SHA-1(nonce + created + password)).

The SOAP calls are written by hand on top of cameras.streams rather than with onvif-zeep/zeep:
every connection must go through the same server-side request forgery guard as "Test connection"
(host resolved once, every address public or inside STREAM_ALLOWED_NETWORKS, connection pinned to
that address, no redirects, one time limit for the whole discovery). zeep's HTTP client resolves
names itself and the ONVIF library follows the service addresses the device reports to any host.

The device's reported service addresses (XAddr) are used only for their path, on the host and port
the business typed: cameras behind a router report their inner address. The stream addresses the
device returns are checked like any address typed by an owner, and credentials inside them are
removed (they are stored apart, encrypted).
"""

import base64
import hashlib
import ipaddress
import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from http.client import HTTPException
from urllib.parse import urlsplit, urlunsplit
from xml.sax.saxutils import escape

import urllib3
from django.conf import settings
from django.utils.translation import gettext as _
from urllib3.util.ssl_match_hostname import CertificateError

from cameras import streams
from cameras.streams import StreamTestError

DEVICE_PATH = "/onvif/device_service"
SOAP_READ_LIMIT = 1024 * 1024
MAX_PROFILES = 20
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?"
HOSTNAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*\.?$")

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "tds": "http://www.onvif.org/ver10/device/wsdl",
    "trt": "http://www.onvif.org/ver10/media/wsdl",
    "tt": "http://www.onvif.org/ver10/schema",
}
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
# The name of a digest type, not a password.
PASSWORD_DIGEST = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"  # noqa: E501, S105
NONCE_ENCODING = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
# Fault subcodes and texts that devices use for a refused user name or password.
AUTH_FAULTS = ("notauthorized", "failedauthentication", "not authorized", "authority failure", "sender not authorized")


class _SoapFault(StreamTestError):
    """The device answered with a SOAP fault other than a refused user name or password."""


@dataclass(frozen=True)
class OnvifProfile:
    """One media profile of the device and its RTSP address (without credentials)."""

    name: str
    token: str
    width: int | None
    height: int | None
    codec: str
    uri: str

    @property
    def resolution(self):
        return f"{self.width}×{self.height}" if self.width and self.height else ""


def onvif_discover_stream(*, host, port, username, password, deadline=None):
    """The device's media profiles with their RTSP addresses, or StreamTestError with a plain message.

    deadline is the time limit in seconds for the whole discovery (default STREAM_TEST_TIMEOUT_SECONDS).
    Profiles whose stream address is not allowed are left out; if none is left, the error says so.
    """
    seconds = deadline if deadline is not None else getattr(settings, "STREAM_TEST_TIMEOUT_SECONDS", 5)
    limit = streams._Deadline(max(1, int(seconds)))
    device_url = _device_url(host, port)
    # Refused here, before any connection, when the address is not allowed.
    streams.check_url_allowed(device_url, allowed_schemes={"http"})
    credentials = (username or "", password or "")

    try:
        media_url = _media_url(device_url, _call(device_url, _GET_CAPABILITIES, credentials, limit))
    except _SoapFault:
        # Some cameras do not implement GetCapabilities but answer every service at one address.
        media_url = device_url
    profiles_xml = _call(media_url, _GET_PROFILES, credentials, limit)
    found = []
    refused = 0
    for profile in profiles_xml.findall(".//trt:Profiles", NS)[:MAX_PROFILES]:
        token = profile.get("token", "")
        if not token:
            continue
        answer = _call(media_url, _get_stream_uri(token), credentials, limit)
        uri = (answer.findtext(".//trt:MediaUri/tt:Uri", default="", namespaces=NS) or "").strip()
        try:
            uri = _checked_stream_uri(uri)
        except StreamTestError:
            refused += 1
            continue
        found.append(_profile(profile, token, uri))
    if not found:
        if refused:
            raise StreamTestError(
                _("The camera gave a stream address on a private or reserved network, which the portal is not "
                  "allowed to reach.")
            )
        raise StreamTestError(_("The camera did not list any RTSP stream."))
    return found


# --- Requests ------------------------------------------------------------------------------

_GET_CAPABILITIES = '<tds:GetCapabilities><tds:Category>Media</tds:Category></tds:GetCapabilities>'
_GET_PROFILES = "<trt:GetProfiles/>"


def _get_stream_uri(token):
    return (
        "<trt:GetStreamUri><trt:StreamSetup>"
        "<tt:Stream>RTP-Unicast</tt:Stream><tt:Transport><tt:Protocol>RTSP</tt:Protocol></tt:Transport>"
        f"</trt:StreamSetup><trt:ProfileToken>{escape(token)}</trt:ProfileToken></trt:GetStreamUri>"
    )


def password_digest(nonce, created, password):
    """WS-Security UsernameToken digest: Base64(SHA-1(nonce + created + password))."""
    # SHA-1 because the ONVIF / WS-Security standard prescribes it.
    digest = hashlib.sha1(nonce + created.encode() + password.encode()).digest()  # noqa: S324
    return base64.b64encode(digest).decode()


def _envelope(body, credentials):
    username, password = credentials
    header = ""
    if username:
        nonce = os.urandom(16)
        created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        header = (
            f'<s:Header><wsse:Security xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}" s:mustUnderstand="1">'
            f"<wsse:UsernameToken><wsse:Username>{escape(username)}</wsse:Username>"
            f'<wsse:Password Type="{PASSWORD_DIGEST}">{password_digest(nonce, created, password)}</wsse:Password>'
            f'<wsse:Nonce EncodingType="{NONCE_ENCODING}">{base64.b64encode(nonce).decode()}</wsse:Nonce>'
            f"<wsu:Created>{created}</wsu:Created></wsse:UsernameToken></wsse:Security></s:Header>"
        )
    namespaces = " ".join(f'xmlns:{prefix}="{uri}"' for prefix, uri in NS.items())
    return (f'<?xml version="1.0" encoding="UTF-8"?><s:Envelope {namespaces}>{header}'
            f"<s:Body>{body}</s:Body></s:Envelope>")


def _device_url(host, port):
    host = (host or "").strip()
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        if not HOSTNAME.match(host):
            raise StreamTestError(_("Enter the camera's host name or IP address, without http:// or a path.")) from None
        shown = host
    else:
        shown = f"[{ip}]" if ip.version == 6 else str(ip)
    if not isinstance(port, int) or not 0 < port < 65536:
        raise StreamTestError(_("The port number in the address is not valid."))
    return f"http://{shown}:{port}{DEVICE_PATH}"


def _media_url(device_url, capabilities):
    """The Media service on the typed host and port, at the path the device reports."""
    xaddr = (capabilities.findtext(".//tt:Media/tt:XAddr", default="", namespaces=NS) or "").strip()
    path = DEVICE_PATH
    if xaddr:
        try:
            path = urlsplit(xaddr).path or DEVICE_PATH
        except ValueError:
            path = DEVICE_PATH
    if not path.startswith("/") or streams.UNSAFE_URL_CHARACTERS.search(path):
        path = DEVICE_PATH
    return device_url.removesuffix(DEVICE_PATH) + path


def _checked_stream_uri(uri):
    """The stream address without credentials, once it passes the address checks."""
    if not uri:
        raise StreamTestError(_("The camera did not list any RTSP stream."))
    streams.check_url_allowed(uri, allowed_schemes=streams.RTSP_SCHEMES)
    parts = urlsplit(uri)
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme.lower(), netloc, parts.path, parts.query, ""))


def _profile(profile, token, uri):
    video = profile.find("tt:VideoEncoderConfiguration", NS)
    width = height = None
    codec = ""
    if video is not None:
        codec = (video.findtext("tt:Encoding", default="", namespaces=NS) or "").strip()[:20]
        width = _number(video.findtext("tt:Resolution/tt:Width", default="", namespaces=NS))
        height = _number(video.findtext("tt:Resolution/tt:Height", default="", namespaces=NS))
    name = (profile.findtext("tt:Name", default="", namespaces=NS) or "").strip()[:100] or token[:100]
    return OnvifProfile(name=name, token=token[:100], width=width, height=height, codec=codec, uri=uri)


def _number(text):
    text = (text or "").strip()
    return int(text) if text.isdigit() and 0 < int(text) < 100_000 else None


# --- SOAP over a guarded connection ---------------------------------------------------------


def _call(url, body, credentials, deadline):
    """POST one SOAP request and return the parsed Body element; faults become StreamTestError."""
    status, data = _post(url, _envelope(body, credentials).encode(), deadline)
    envelope = _parse(data)
    if envelope is None:
        if status in (401, 403):
            raise _refused(credentials)
        raise _not_onvif()
    soap_body = envelope.find("s:Body", NS)
    if soap_body is None:
        raise _not_onvif()
    fault = soap_body.find("s:Fault", NS)
    if fault is not None:
        text = " ".join(fault.itertext()).lower()
        if status in (401, 403) or any(marker in text for marker in AUTH_FAULTS):
            raise _refused(credentials)
        raise _SoapFault(_("The camera answered the ONVIF request with an error."))
    if status in (401, 403):
        raise _refused(credentials)
    if not 200 <= status < 300:
        raise _not_onvif()
    return soap_body


def _parse(data):
    # A device has no reason to send a document type; refusing one avoids entity expansion.
    if b"<!DOCTYPE" in data.upper() or b"<!ENTITY" in data.upper():
        return None
    try:
        root = ET.fromstring(data)  # noqa: S314  (no DTD allowed, as checked above; at most 1 MB)
    except ET.ParseError:
        return None
    return root if root.tag == f"{{{NS['s']}}}Envelope" else None


def _refused(credentials):
    if credentials[0]:
        return StreamTestError(_("The camera refused the user name or password."))
    return StreamTestError(_("The camera asks for a user name and password."))


def _not_onvif():
    return StreamTestError(
        _("This address did not answer as an ONVIF camera. Check the address and the port (often 80, 8000 or 8080).")
    )


def _post(url, body, deadline):
    """(status, body) of a POST to url, through the pinned, time-limited connection of cameras.streams."""
    target = streams._target(url, "", "", {"http"})
    connection = streams._connection(target, deadline.remaining())
    watchdog = response = None
    try:
        connection.connect()
        watchdog = streams._Watchdog(connection.sock, deadline.remaining())
        headers = {
            "Host": target.host_header,
            "User-Agent": streams.USER_AGENT,
            "Content-Type": 'application/soap+xml; charset=utf-8',
            "Accept-Encoding": "identity",
            "Connection": "close",
        }
        connection.request("POST", target.request_target, body=body, headers=headers, preload_content=False,
                           decode_content=False)
        response = connection.getresponse()
        return response.status, streams._read_body(response, SOAP_READ_LIMIT)
    except StreamTestError:
        if watchdog is not None and watchdog.expired:
            raise streams._timeout_error(deadline.seconds) from None
        raise
    except (OSError, HTTPException, urllib3.exceptions.HTTPError, CertificateError) as exc:
        if watchdog is not None and watchdog.expired:
            raise streams._timeout_error(deadline.seconds) from exc
        raise streams._connection_error(exc, deadline.seconds) from exc
    finally:
        if watchdog is not None:
            watchdog.cancel()
        if response is not None:
            response.close()
        connection.close()
