"""Property-based fuzzing of the whole API against its own OpenAPI schema (issue #15).

Schemathesis generates requests (valid and invalid) for every operation in /api/schema/ and sends
them, in process, to the portal's WSGI application as four callers: nobody signed in, a resident,
police staff who passed MFA, and an integration key. Every answer must be free of 5xx, carry a
status code the schema declares for the operation, and match the declared content type and body.

FUZZ_EXAMPLES sets the examples per operation and caller (default 25; bench/README.md describes a
long run with 500).
"""

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from cameras.tests.factories import CameraFactory
from incidents.services import integration_key_create
from portal import roles
from portal.tests.factories import OwnerFactory, StaffFactory

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
# The coverage phase adds schemathesis's deterministic boundary cases (every required-only body, each
# enum value, each limit) to the random examples.
COVERAGE = os.environ.get("FUZZ_COVERAGE", "1") != "0"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
CALLERS = ["anonymous", "owner", "staff", "integration"]
# Any value works as long as the cookie and the header agree (Django's double-submit check).
CSRF_TOKEN = "fuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzz"

app = get_wsgi_application()
schema = schemathesis.openapi.from_wsgi(
    "/api/schema/?format=json", app,
    config=schemathesis.Config.from_dict({"phases": {"coverage": {"enabled": COVERAGE}}}))


class Caller:
    """Credentials for one kind of caller: session cookies, or an integration key per endpoint."""

    def __init__(self, *, session_key=None, keys=None):
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


def _session_key(user, login):
    client = Client()
    login(client, user)
    return client.cookies["sessionid"].value


@pytest.fixture(autouse=True)
def _keep_the_test_transaction():
    # The WSGI handler closes the database connection after each request, which would end the
    # test's transaction; Django's test client disconnects the same signal for the same reason.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_settings(settings):
    # The rate limits are real code paths with their own tests; here they would only turn most
    # examples into 429s and hide the code behind them.
    settings.GEOCODER_RATE_LIMIT = "1000000/min"
    settings.CAD_RATE_LIMIT = "1000000/min"
    settings.ALLOWED_HOSTS = ["localhost"]  # the host schemathesis's WSGI transport sends cookies to
    return settings


@pytest.fixture(params=CALLERS)
def caller(request, db, login, fuzz_settings):
    """Sets up the caller and the data its requests can reach: the owner's cameras, staff to search them."""
    owner = OwnerFactory(email="fuzz-owner@example.org")
    CameraFactory(owner=owner, latitude=0.0, longitude=0.0, access_level="integrated")
    CameraFactory(owner=owner)
    if request.param == "owner":
        return Caller(session_key=_session_key(owner, login))
    if request.param == "staff":
        return Caller(session_key=_session_key(StaffFactory(email="fuzz-staff@police.example.org",
                                                            roles=[roles.OPERATOR]), login))
    if request.param == "integration":
        _cad, cad_key = integration_key_create(name="Fuzz CAD", kind="cad")
        _avl, avl_key = integration_key_create(name="Fuzz AVL", kind="avl")
        return Caller(keys={"/api/v1/units/locations/": avl_key, "*": cad_key})
    return Caller()


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_every_answer_is_documented_and_no_request_breaks_the_server(case, caller):
    response = case.call(headers=caller.headers(case.path),
                         cookies=caller.cookies())
    case.validate_response(response, checks=CHECKS)
