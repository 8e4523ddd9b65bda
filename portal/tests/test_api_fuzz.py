"""Property-based fuzzing of the whole API against its own OpenAPI schema (issue #15).

Schemathesis generates requests, valid and invalid, for every operation in /api/schema/ and sends
them in process to the portal's WSGI application as four callers: nobody signed in, a resident,
police staff who passed MFA, and an integration key. No answer may be a 5xx, and each must carry a
status code the schema declares for its operation, with the declared content type and body.

FUZZ_EXAMPLES sets the random examples per operation and caller (default 20), FUZZ_COVERAGE=1 adds
schemathesis's deterministic boundary cases, FUZZ_STATS=file.json writes what was sent and answered;
bench/fuzz_api.py runs the long version (bench/README.md).
"""

import json
import os
from collections import Counter, defaultdict

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from cameras.tests.factories import CameraFactory
from incidents.services import integration_key_create
from portal import roles
from portal.tests.factories import OwnerFactory, StaffFactory

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "20"))
# The coverage phase adds deterministic cases (each required-only body, each enum value, each limit):
# thorough, but several hundred requests for the camera operations, so it is left to the long run.
COVERAGE = os.environ.get("FUZZ_COVERAGE", "0") == "1"
STATS_FILE = os.environ.get("FUZZ_STATS", "")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
CALLERS = ["anonymous", "owner", "staff", "integration"]
# Any value will do as long as the cookie and the header agree (Django's double-submit check).
CSRF_TOKEN = "fuzz" * 8

app = get_wsgi_application()
schema = schemathesis.openapi.from_wsgi(
    "/api/schema/?format=json", app,
    config=schemathesis.Config.from_dict({"phases": {"coverage": {"enabled": COVERAGE}}}))

# (operation, caller) → status codes answered, and failed checks by kind (ServerError, UndefinedStatusCode, ...).
answers = defaultdict(Counter)
failures = defaultdict(Counter)


class Caller:
    """One kind of caller: a session (with its CSRF token) or integration keys, and the owner's camera ids."""

    def __init__(self, name, camera_ids, *, session_key=None, keys=None):
        self.name = name
        self.camera_ids = camera_ids
        self.session_key = session_key
        self.keys = keys or {}

    def cookies(self):
        if self.session_key is None:
            return {}
        return {"sessionid": self.session_key, "csrftoken": CSRF_TOKEN}

    def headers(self, path):
        if self.session_key is not None:
            return {"X-CSRFToken": CSRF_TOKEN}
        key = self.keys.get(path, self.keys.get("*"))
        return {"Authorization": f"Bearer {key}"} if key else {}

    def aim(self, case):
        """Point even generated ids at the owner's cameras, so that reads, updates and deletes get past the 404."""
        camera_id = (case.path_parameters or {}).get("id")
        if isinstance(camera_id, int) and not isinstance(camera_id, bool) and camera_id % 2 == 0:
            case.path_parameters["id"] = self.camera_ids[camera_id // 2 % len(self.camera_ids)]


def _session_key(user, login):
    client = Client()
    login(client, user)  # staff: a TOTP device and a session that passed MFA
    return client.cookies["sessionid"].value


@pytest.fixture(autouse=True)
def _keep_the_test_transaction():
    # The WSGI handler closes the database connection after each request, which would end the
    # test's transaction; Django's test client disconnects the same receiver for the same reason.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(scope="module", autouse=True)
def _write_stats():
    yield
    if STATS_FILE:
        with open(STATS_FILE, "w") as stats:
            json.dump({"examples": EXAMPLES, "coverage": COVERAGE,
                       "answers": {"|".join(key): dict(value) for key, value in answers.items()},
                       "failures": {"|".join(key): dict(value) for key, value in failures.items()}}, stats, indent=1)


@pytest.fixture
def fuzz_settings(settings):
    # The rate limits have tests of their own; here they would turn most examples into 429s and hide
    # the code behind them. The login lockout is not reached: no API operation signs anyone in.
    settings.GEOCODER_RATE_LIMIT = "1000000/min"
    settings.CAD_RATE_LIMIT = "1000000/min"
    settings.ALLOWED_HOSTS = ["localhost"]  # the host schemathesis's WSGI transport sends cookies for
    return settings


@pytest.fixture(params=CALLERS)
def caller(request, db, login, fuzz_settings):
    """The caller, and what its requests can reach: an owner's cameras (one integrated, at 0°, 0°)."""
    owner = OwnerFactory(email="fuzz-owner@example.org")
    camera_ids = [CameraFactory(owner=owner, latitude=0.0, longitude=0.0, access_level="integrated").pk,
                  CameraFactory(owner=owner).pk]
    if request.param == "owner":
        return Caller("owner", camera_ids, session_key=_session_key(owner, login))
    if request.param == "staff":
        staff = StaffFactory(email="fuzz-staff@police.example.org", roles=[roles.OPERATOR])
        return Caller("staff", camera_ids, session_key=_session_key(staff, login))
    if request.param == "integration":
        _cad, cad_key = integration_key_create(name="Fuzz CAD", kind="cad")
        _avl, avl_key = integration_key_create(name="Fuzz AVL", kind="avl")
        return Caller("integration", camera_ids, keys={"/api/v1/units/locations/": avl_key, "*": cad_key})
    return Caller("anonymous", camera_ids)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_every_answer_is_documented_and_no_request_breaks_the_server(case, caller):
    caller.aim(case)
    response = case.call(headers=caller.headers(case.path), cookies=caller.cookies())
    key = (case.operation.label, caller.name)
    answers[key][str(response.status_code)] += 1
    try:
        case.validate_response(response, checks=CHECKS)
    except FailureGroup as group:
        failures[key].update(type(failure).__name__ for failure in group.exceptions)
        raise
