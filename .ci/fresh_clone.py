#!/usr/bin/env python3
"""CI: the README's first command works on a fresh clone.

Clones the checkout's HEAD into a temporary folder (so that no var/, .venv or node_modules of
the working tree helps), runs `make run` there on free ports, waits for /healthz to answer 200,
signs in as a demo owner through allauth's form, then stops every process `make run` started.
Any failure exits non-zero and prints the end of make's log. Standard library only: it runs
before any virtualenv exists.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The first run installs every Python and npm package before it serves anything.
TIMEOUT_SECONDS = int(os.environ.get("FRESH_CLONE_TIMEOUT_SECONDS", "300"))
EMAIL, PASSWORD, FULL_NAME = "resident@example.org", "community-cameras", "Maria Lopez"
# A new user's environment: nothing pointing at this run's services, folders or test switches.
UNSET = ("DATABASE_URL", "REDIS_URL", "TASKS_ON_REDIS", "TASKS_SYNC", "EMAIL_URL", "VAR_DIR", "FOOTAGE_ROOT",
         "FOOTAGE_STORAGE_URL", "SITE_URL", "DEBUG", "DJANGO_SETTINGS_MODULE", "VIRTUAL_ENV", "MAKEFLAGS", "MAKELEVEL")
LOG_LINES_SHOWN = 60


class Failure(Exception):
    pass


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def start_make_run(clone, log, port, cameras_port):
    env = {key: value for key, value in os.environ.items() if key not in UNSET}
    env["DEMO_CAMERAS_PORT"] = str(cameras_port)  # 8001 may be taken on a shared machine
    # A session of its own, so that make, manage.py serve, daphne, qcluster and the demo cameras stop together.
    return subprocess.Popen(["make", "run", "HOST=127.0.0.1", f"PORT={port}"], cwd=clone, env=env,  # noqa: S603,S607
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def wait_until_healthy(base_url, server):
    started = time.monotonic()
    last_answer = "no answer"
    while time.monotonic() - started < TIMEOUT_SECONDS:
        if server.poll() is not None:
            raise Failure(f"make run exited with code {server.returncode} before /healthz answered 200")
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=5) as response:  # noqa: S310
                if response.status == 200:
                    return time.monotonic() - started
        except urllib.error.HTTPError as error:  # 503 until the task cluster publishes its heartbeat
            last_answer = f"{error.code} {error.read(300).decode(errors='replace')}"
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            last_answer = str(error)
        time.sleep(2)
    raise Failure(f"/healthz did not answer 200 within {TIMEOUT_SECONDS} s (last answer: {last_answer})")


def sign_in(base_url):
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    login_url = f"{base_url}/accounts/login/"
    with browser.open(login_url, timeout=30) as response:
        form = response.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    if token is None:
        raise Failure(f"{login_url} has no CSRF token in its form")
    fields = urllib.parse.urlencode({"csrfmiddlewaretoken": token.group(1), "login": EMAIL, "password": PASSWORD})
    request = urllib.request.Request(login_url, data=fields.encode(), headers={"Referer": login_url})  # noqa: S310
    with browser.open(request, timeout=30) as response:  # follows the redirect after a successful sign-in
        landed, page = response.geturl(), response.read().decode()
    if urllib.parse.urlsplit(landed).path.startswith("/accounts/login/") or FULL_NAME not in page:
        raise Failure(f"signing in as {EMAIL} did not work: landed on {landed} without {FULL_NAME!r}; "
                      f"the page says: {_alert_text(page) or '(no alert)'}")
    with browser.open(f"{base_url}/dashboard/", timeout=30) as response:
        if response.status != 200 or urllib.parse.urlsplit(response.geturl()).path != "/dashboard/":
            raise Failure(f"/dashboard/ answered {response.status} at {response.geturl()} after signing in")
    return landed


def _alert_text(page):
    """The text of the page's first alert (where allauth says a password is wrong)."""
    alert = re.search(r'role="alert">(.*?)</div>', page, re.DOTALL)
    return " ".join(re.sub(r"<[^>]+>", " ", alert.group(1)).split()) if alert else ""


def stop(server):
    """Ctrl-C for the whole process group, as in a terminal; whatever is left after 30 s is killed."""
    for sig, seconds in ((signal.SIGINT, 30), (signal.SIGKILL, 10)):
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            return
        if _group_gone(server, seconds):
            return
        if sig == signal.SIGINT:
            print(f"make run's processes were still running {seconds} s after Ctrl-C: killing them", flush=True)


def _group_gone(server, seconds):
    """Reap make, then wait until no process of its group is left (its children may outlive it)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        server.poll()
        try:
            os.killpg(server.pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.5)
    return False


def main():
    # CI stopping this script (SIGTERM) still runs the clean-up below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    # A script started in the background by a shell ignores SIGINT, and so would make run's processes
    # it starts; with a handler here, they start with the default and stop on the Ctrl-C sent below.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    with tempfile.TemporaryDirectory(prefix="portal-fresh-clone-") as temp:
        clone, log_path = Path(temp) / "portal", Path(temp) / "make-run.log"
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)  # noqa: S603,S607
        port, cameras_port = free_ports(2)
        base_url = f"http://127.0.0.1:{port}"
        print(f"Fresh clone in {clone}: make run on {base_url} (demo cameras on {cameras_port})", flush=True)
        with log_path.open("wb") as log:
            server = start_make_run(clone, log, port, cameras_port)
        failure = None
        try:
            seconds = wait_until_healthy(base_url, server)
            print(f"/healthz answered 200 after {seconds:.0f} s", flush=True)
            landed = sign_in(base_url)
            print(f"Signed in as {EMAIL}: {landed} greets {FULL_NAME}", flush=True)
        except (Failure, OSError) as error:  # urllib's errors are OSErrors
            failure = error
        finally:
            stop(server)
        if failure is not None:
            lines = log_path.read_text(errors="replace").splitlines()[-LOG_LINES_SHOWN:]
            print(f"\nFRESH CLONE FAILED: {failure}\n--- the last {len(lines)} lines of make run's output ---",
                  file=sys.stderr)
            print("\n".join(lines), file=sys.stderr)
            return 1
    print("Fresh clone: make run works", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
