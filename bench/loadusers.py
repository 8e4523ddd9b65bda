"""The people of bench/load.py, simulated with locust in a process of their own.

    python bench/loadusers.py PLAN.json RESULTS.json

bench/load.py writes the plan (the server's ports, the seeded accounts, their TOTP secrets and request links, the
CAD key, the phases' lengths) and reads the results. This process imports locust first, which patches the
standard library for gevent; it never imports Django. Every request goes to the web processes as the reverse proxy
of docs/deploy.md would pass it on: `X-Forwarded-Proto: https` and a `X-Forwarded-For` address of the person's own
(daphne runs with --proxy-headers), so HTTPS-only cookies, CSRF origin checks and per-address rate limits work as in
production. Requests are named by page (`dashboard`, `answer page`, ...), never by URL.
"""

import locust  # noqa: F401, I001  (first: it patches the standard library for gevent)

import base64
import json
import random
import re
import sys
import time
from pathlib import Path

import gevent
import requests
from locust import HttpUser, between, constant_pacing, events, task
from locust.env import Environment

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchstats import percentile  # noqa: E402
from load import jitter  # noqa: E402  (no Django: load.py imports it only inside functions)

CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
PLAN = {}
SAMPLES = []  # (name, milliseconds, failed) of the measured phase
RAMP_SAMPLES = []  # the same, while people sign in and start
FAILURES = {}  # (name, message) -> count, measured phase
PHASE = {"name": "ramp", "measure_started": None}
STARTED = {"count": 0}
RNG = random.Random()  # noqa: S311  (choosing pages, not secrets; seeded from the plan)
PEOPLE = []  # every started person, for the capacity phase's sessions


def as_if_https(jar):
    """Let the portal's Secure cookies travel over the bench's plain HTTP: the requests stand for HTTPS ones that
    the reverse proxy decrypted (it sets X-Forwarded-Proto: https, which the portal trusts). requests copies the
    jar for each request (so a cookie policy would be lost): the cookies themselves lose the flag."""
    for cookie in jar:
        cookie.secure = False


@events.request.add_listener
def record(request_type, name, response_time, response_length, exception=None, **kwargs):
    failed = exception is not None
    if PHASE["name"] == "measure":
        SAMPLES.append((name, response_time, failed))
        if failed:
            key = f"{name}: {str(exception)[:160]}"
            FAILURES[key] = FAILURES.get(key, 0) + 1
    elif PHASE["name"] == "ramp":
        RAMP_SAMPLES.append((name, response_time, failed))


def forwarded_for(number):
    return f"10.{(number >> 16) & 255}.{(number >> 8) & 255}.{number & 255}"


class Person(HttpUser):
    """One person behind the proxy: a keep-alive connection to one web process, an address of their own."""

    abstract = True
    host = "http://127.0.0.1"  # each request names its web process's port (see on_start)
    number = 0

    def on_start(self):
        Person.number += 1
        PEOPLE.append(self)
        self.port = PLAN["ports"][Person.number % len(PLAN["ports"])]
        self.origin = f"https://127.0.0.1:{self.port}"
        self.base = f"http://127.0.0.1:{self.port}"
        self.client.headers.update({"X-Forwarded-Proto": "https", "X-Forwarded-For": forwarded_for(Person.number),
                                    "User-Agent": "bench/load.py"})

    def get(self, path, name, expect=200, **kwargs):
        return self.send("GET", path, name, expect, **kwargs)

    def post(self, path, name, expect, data=None, headers=None, **kwargs):
        if data is not None:
            data = {"csrfmiddlewaretoken": self.csrf(), **data}
        return self.send("POST", path, name, expect, data=data, headers=headers, **kwargs)

    def send(self, method, path, name, expect, headers=None, **kwargs):
        """One request, a failure unless it answers `expect` (redirects are not followed: a redirect to the
        sign-in page is a failure, not a page)."""
        if method != "GET" and "Authorization" not in (headers or {}):  # a browser's form or upload
            headers = {"Origin": self.origin, **(headers or {})}
        with self.client.request(method, self.base + path, name=name, headers=headers, allow_redirects=False,
                                 catch_response=True, **kwargs) as response:
            if response.status_code != expect:
                response.failure(f"HTTP {response.status_code}, expected {expect}: {response.text[:120]!r}")
        as_if_https(self.client.cookies)
        return response

    def csrf(self):
        return self.client.cookies.get("csrftoken", "")

    def sign_in(self, email, password, name):
        page = self.get("/accounts/login/", f"sign-in page ({name})")
        match = CSRF_FIELD.search(page.text)
        return self.post("/accounts/login/", f"sign in ({name})", 302,
                         data={"login": email, "password": password, "csrfmiddlewaretoken": match and match.group(1)})


class Owner(Person):
    """A resident or business: the dashboard and the pages around it; the e-mailed request links it holds are
    answered once each, at a moment of the measured phase (approve and upload a small video, or decline)."""

    def on_start(self):
        super().on_start()
        self.account = PLAN["owners"].pop()
        self.pending = list(self.account["requests"])
        if self.account["session"]:  # still signed in from an earlier visit
            self.client.cookies.set(PLAN["session_cookie"], self.account["session"], domain="127.0.0.1", path="/")
        else:
            for _attempt in range(3):  # as a person would, try again after a failed sign-in
                if self.sign_in(self.account["email"], PLAN["password"], "owner").status_code == 302:
                    break
                gevent.sleep(5)
        STARTED["count"] += 1

    @task
    def visit(self):
        if PHASE["name"] != "measure":
            self.get("/dashboard/", "dashboard")
            return
        due = [each for each in self.pending if time.monotonic() - PHASE["measure_started"] >= each["after_s"]]
        if due:
            self.pending.remove(due[0])
            self.answer(due[0])
            return
        page = RNG.choices(["dashboard", "access log", "camera rules", "account"], weights=[10, 2, 2, 1])[0]
        if page == "dashboard":
            self.get("/dashboard/", "dashboard")
        elif page == "access log":
            self.get("/access-log/", "access log")
        elif page == "camera rules":
            self.get(f"/cameras/{RNG.choice(self.account['cameras'])}/rules/", "camera rules")
        else:
            self.get("/account/", "account")

    def answer(self, footage_request):
        pk = footage_request["pk"]
        self.get(f"/r/{footage_request['token']}/", "request link", expect=302)
        self.get(f"/requests/{pk}/", "answer page")
        if footage_request["answer"] == "decline":
            self.post(f"/requests/{pk}/decline/", "decline", 302, data={"reason": "Nothing on my camera then."})
            self.get(f"/requests/{pk}/", "answer page")
            return
        self.post(f"/requests/{pk}/approve/", "approve", 302, data={})
        self.get(f"/requests/{pk}/", "answer page")
        video = PLAN["video"]
        tus = {"Tus-Resumable": "1.0.0", "X-CSRFToken": self.csrf()}
        created = self.post(f"/requests/{pk}/uploads/", "upload: create (tus POST)", 201, headers={
            **tus, "Upload-Length": str(len(VIDEO)),
            "Upload-Metadata": f"filename {base64.b64encode(video['name'].encode()).decode()}"})
        location = created.headers.get("Location")
        if location:
            self.send("PATCH", location, "upload: data (tus PATCH)", 204, data=VIDEO,
                      headers={**tus, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"})


class Staff(Person):
    """Police staff, signed in with password and TOTP: incidents, and camera searches near addresses and points."""

    def on_start(self):
        super().on_start()
        import pyotp

        self.account = PLAN["staff"].pop()
        signed = self.sign_in(self.account["email"], PLAN["password"], "staff")
        if signed.headers.get("Location", "").rstrip("/").endswith("2fa/authenticate"):
            self.get("/accounts/2fa/authenticate/", "second factor page")
            self.post("/accounts/2fa/authenticate/", "second factor (TOTP)", 302,
                      data={"code": pyotp.TOTP(self.account["totp_secret"]).now()})
        STARTED["count"] += 1

    @task
    def visit(self):
        page = RNG.choices(["incidents", "incident", "address search", "incident map search", "rtcc"],
                              weights=[2, 3, 3, 2, 1])[0]
        incident = RNG.choice(PLAN["incidents"])
        if page == "incidents":
            self.get("/staff/incidents/", "incident list")
        elif page == "incident":
            self.get(f"/staff/incidents/{incident}/", "incident page")
        elif page == "address search":
            found = self.get("/cameras/geocode/", "address search (geocode)",
                             params={"q": RNG.choice(PLAN["addresses"])})
            places = found.json() if found.status_code == 200 else []
            if places:
                self.get("/api/v1/cameras/", "camera search near the address (API)",
                         params={"lat": places[0]["lat"], "lng": places[0]["lng"], "radius_m": 400})
        elif page == "incident map search":
            lat, lng = jitter(PLAN["centre"], 1500)
            self.get(f"/staff/incidents/{incident}/preview/", "incident map: cameras in a circle",
                     params={"lat": lat, "lng": lng, "radius_m": 300})
        else:
            self.get("/staff/incidents/rtcc/", "RTCC page")
            self.get("/staff/incidents/rtcc/map/", "RTCC map data")


class Dispatch(Person):
    """The county's CAD system: a new event every CAD_INTERVAL_S, with its integration key."""

    def on_start(self):
        super().on_start()
        self.sent = 0
        STARTED["count"] += 1

    @task
    def event(self):
        self.sent += 1
        lat, lng = jitter(PLAN["centre"], 2000)
        body = {"external_id": f"LOAD-{int(time.time())}-{self.sent}",
                "event_type": RNG.choice(["Burglar alarm", "Shots fired", "Robbery", "Hit and run"]),
                "priority": RNG.choice([1, 2, 3]), "latitude": lat, "longitude": lng, "address": "Load test"}
        self.send("POST", "/api/v1/cad/events/", "CAD event (API POST)", 201, json=body,
                  headers={"Authorization": f"Bearer {PLAN['cad_key']}"})


class HealthCheck(Person):
    """The load balancer: /healthz on each web process once a second."""

    def on_start(self):
        super().on_start()
        STARTED["count"] += 1

    @task
    def check(self):
        self.get("/healthz", "/healthz")


def summary(samples, seconds):
    """Per name: requests, failures, requests/s, p50/p95/p99 in ms."""
    by_name = {}
    for name, milliseconds, failed in samples:
        entry = by_name.setdefault(name, {"times": [], "failures": 0})
        entry["times"].append(milliseconds)
        entry["failures"] += failed
    return {name: {"requests": len(entry["times"]), "failures": entry["failures"],
                   "rps": len(entry["times"]) / seconds if seconds else 0.0,
                   **{f"p{int(q * 100)}": percentile(entry["times"], q) for q in (0.5, 0.95, 0.99)},
                   "max": max(entry["times"])} for name, entry in by_name.items()}


# --- The capacity phase: each page alone, as fast as the server answers --------------------------------

def capacity(targets, seconds):
    """For each (name, people, path of a person): each person requests their path back to back for `seconds`, on
    their own session and connection; requests/s and p50. The first target, /healthz, is the baseline."""
    results = {}
    for name, people, path_of in targets:
        times, failures = [], []
        deadline = began = time.monotonic()
        deadline += seconds
        gevent.joinall([gevent.spawn(back_to_back, person, path_of(person), deadline, times, failures)
                        for person in people])
        elapsed = time.monotonic() - began
        results[name] = {"requests": len(times), "failures": len(failures), "rps": len(times) / elapsed,
                         "failed_with": sorted({str(status) for status in failures}),
                         "p50": percentile(times, 0.5) if times else None}
    return results


def back_to_back(person, path, deadline, times, failures):
    """GET path as the person until the deadline; each request's milliseconds into `times`."""
    while time.monotonic() < deadline:
        started = time.perf_counter()
        try:
            response = person.client.get(person.base + path, allow_redirects=False, timeout=30)
            status = response.status_code
        except requests.RequestException as error:
            status = type(error).__name__
        else:
            if status != 200:
                status = f"{status} {response.headers.get('Location', '')}".strip()
            as_if_https(person.client.cookies)
        times.append((time.perf_counter() - started) * 1000)
        if status != 200:
            failures.append(status)


# --- The run ------------------------------------------------------------------------------------

def main(plan_path, results_path):
    global VIDEO
    PLAN.update(json.load(open(plan_path)))
    VIDEO = open(PLAN["video"]["path"], "rb").read()
    RNG.seed(PLAN["seed"])
    Owner.fixed_count, Owner.wait_time = len(PLAN["owners"]), between(*PLAN["owner_think_s"])
    Staff.fixed_count, Staff.wait_time = len(PLAN["staff"]), between(*PLAN["staff_think_s"])
    Dispatch.fixed_count, Dispatch.wait_time = 1, constant_pacing(PLAN["cad_interval_s"])
    HealthCheck.fixed_count, HealthCheck.wait_time = len(PLAN["ports"]), constant_pacing(1)
    total = Owner.fixed_count + Staff.fixed_count + 1 + HealthCheck.fixed_count
    environment = Environment(user_classes=[HealthCheck, Dispatch, Staff, Owner], events=events)
    runner = environment.create_local_runner()
    ramp_started = time.monotonic()
    runner.start(total, spawn_rate=PLAN["spawn_rate"])
    while STARTED["count"] < total:
        if runner.spawning_greenlet and runner.spawning_greenlet.dead and not runner.spawning_greenlet.successful():
            raise SystemExit("locust could not start the people (see above)")
        if time.monotonic() - ramp_started > PLAN["ramp_timeout_s"]:
            raise SystemExit(f"only {STARTED['count']} of {total} people had started after {PLAN['ramp_timeout_s']} s")
        gevent.sleep(0.2)
    ramp_s = time.monotonic() - ramp_started
    PHASE.update(name="measure", measure_started=time.monotonic())
    print(f"loadusers: measuring for {PLAN['duration_s']} s; {total} people started (signed in) in {ramp_s:.0f} s",
          flush=True)
    gevent.sleep(PLAN["duration_s"])
    PHASE["name"] = "done"
    measured_s = time.monotonic() - PHASE["measure_started"]
    print("loadusers: measured; each page alone next", flush=True)
    owners = [person for person in PEOPLE if isinstance(person, Owner)]
    staff = [person for person in PEOPLE if isinstance(person, Staff)]
    unanswered = sum(len(owner.pending) for owner in owners)
    runner.quit()
    clients = PLAN["capacity_clients"]
    probes = [person for person in PEOPLE if isinstance(person, HealthCheck)]
    probes = (probes * clients)[:clients]
    owners, staff = owners[:clients], staff[:clients]
    targets = [("/healthz", probes, lambda person: "/healthz"),
               ("dashboard", owners, lambda person: "/dashboard/"),
               ("access log", owners, lambda person: "/access-log/"),
               ("camera rules", owners, lambda person: f"/cameras/{person.account['cameras'][0]}/rules/"),
               ("incident list", staff, lambda person: "/staff/incidents/"),
               ("incident page", staff, lambda person: f"/staff/incidents/{PLAN['incidents'][0]}/"),
               ("RTCC page", staff, lambda person: "/staff/incidents/rtcc/")]
    capacity_results = capacity(targets, PLAN["capacity_s"]) if PLAN["capacity_s"] else {}
    json.dump({"ramp_s": ramp_s, "measured_s": measured_s, "people": total, "unanswered_requests": unanswered,
               "measured": summary(SAMPLES, measured_s), "ramp": summary(RAMP_SAMPLES, ramp_s),
               "failures": FAILURES, "capacity": capacity_results}, open(results_path, "w"), indent=1)


VIDEO = b""

if __name__ == "__main__":
    if len(sys.argv) != 3:  # `make bench` runs every script: this one is bench/load.py's helper
        print("bench/loadusers.py is started by bench/load.py (python bench/loadusers.py PLAN.json RESULTS.json)")
        sys.exit(0)
    main(*sys.argv[1:3])
