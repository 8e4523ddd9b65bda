"""The container's health check: GET /healthz on the local daphne (slim images have no curl).

    python deploy/healthcheck.py [PORT]      exit 0 when the portal answers 200, 1 otherwise

/healthz answers 503 while the database, the channel layer or the django-q2 cluster is down, so a
web container is unhealthy while no worker runs. The request carries the first host name of
ALLOWED_HOSTS (Django refuses others with 400) and follows no redirect: with DEBUG=0 a redirect to
HTTPS would mean SECURE_REDIRECT_EXEMPT no longer covers healthz.
"""

import os
import sys
import urllib.error
import urllib.request

PATH = "/healthz"
DEFAULT_PORT = 8000
TIMEOUT_SECONDS = 4


def host_header(allowed_hosts):
    """A Host header the portal accepts: the first concrete name in ALLOWED_HOSTS."""
    for entry in allowed_hosts.split(","):
        name = entry.strip().lstrip(".")  # ".city.example" also matches "city.example"
        if name and name != "*":
            return name
    return "localhost"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 3xx is reported as an error instead of being followed


def check(port=DEFAULT_PORT, allowed_hosts=None):
    """The status code of GET /healthz on 127.0.0.1:port (0 when nothing answered)."""
    hosts = os.environ.get("ALLOWED_HOSTS", "") if allowed_hosts is None else allowed_hosts
    request = urllib.request.Request(f"http://127.0.0.1:{port}{PATH}", headers={"Host": host_header(hosts)})
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def main(argv):
    port = int(argv[1]) if len(argv) > 1 else DEFAULT_PORT
    status = check(port)
    if status != 200:
        print(f"GET {PATH} on port {port}: {status or 'no answer'}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
