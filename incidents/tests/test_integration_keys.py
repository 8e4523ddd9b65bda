"""Integration keys: bearer authentication, last use, rate limit, the admin and the command."""

import hashlib
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from incidents.models import Incident, IntegrationKey
from incidents.services import integration_key_revoke
from incidents.tests.conftest import bearer
from portal.models import AuditEvent

URL = "/api/v1/cad/events/"
EVENT = {"external_id": "E1", "event_type": "alarm", "latitude": 40.7, "longitude": -74.0}
pytestmark = pytest.mark.django_db


def post(client, body=EVENT, **headers):
    return client.post(URL, body, content_type="application/json", **headers)


def test_only_the_hash_and_a_short_prefix_are_stored(cad_key):
    key, raw_key = cad_key

    assert len(raw_key) >= 43 + len("ccp_")  # 32 random bytes, base64url
    assert key.key_hash == hashlib.sha256(raw_key.encode()).hexdigest()
    assert raw_key.startswith(key.prefix) and len(key.prefix) == 12
    assert raw_key not in str(IntegrationKey.objects.filter(pk=key.pk).values().get())


def test_keys_are_unique(make_key):
    assert make_key("cad")[1] != make_key("cad")[1]


@pytest.mark.parametrize("headers", [
    {},
    {"HTTP_AUTHORIZATION": "Bearer ccp_not-a-key"},
    {"HTTP_AUTHORIZATION": "Bearer"},
    {"HTTP_AUTHORIZATION": "Bearer two words"},
], ids=["no header", "unknown key", "empty", "malformed"])
def test_a_missing_or_unknown_key_is_refused_with_401(client, headers):
    response = post(client, **headers)

    assert response.status_code == 401
    assert response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert Incident.objects.count() == 0


def test_a_revoked_key_is_refused_with_a_clear_message(client, cad_key):
    integration_key_revoke(key=cad_key[0])

    response = post(client, **bearer(cad_key[1]))

    assert response.status_code == 401
    assert response.json() == {"detail": "Unknown or revoked integration key."}


def test_a_signed_in_staff_session_cannot_post(client, login, supervisor):
    login(client, supervisor)

    assert post(client).status_code == 401
    assert Incident.objects.count() == 0


def test_staff_without_mfa_are_stopped_before_the_api(client, operator):
    client.force_login(operator)

    assert post(client).status_code == 403


def test_an_avl_key_cannot_post_events_and_an_event_key_cannot_post_locations(client, avl_key, cad_key,
                                                                              alarm_key):
    locations = {"locations": [{"unit": "A12", "latitude": 40.7, "longitude": -74.0}]}

    assert post(client, **bearer(avl_key[1])).status_code == 403
    for raw_key in (cad_key[1], alarm_key[1]):
        response = client.post("/api/v1/units/locations/", locations, content_type="application/json",
                               **bearer(raw_key))
        assert response.status_code == 403
    assert Incident.objects.count() == 0


def test_use_is_recorded_at_most_once_a_minute(client, cad_key):
    key, raw_key = cad_key
    post(client, **bearer(raw_key), REMOTE_ADDR="198.51.100.4")
    key.refresh_from_db()
    first_use = key.last_used_at
    assert key.last_used_ip == "198.51.100.4"

    post(client, {**EVENT, "priority": 3}, **bearer(raw_key), REMOTE_ADDR="198.51.100.4")
    key.refresh_from_db()
    assert key.last_used_at == first_use

    IntegrationKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now() - timedelta(minutes=2))
    post(client, {**EVENT, "priority": 2}, **bearer(raw_key), REMOTE_ADDR="198.51.100.4")
    key.refresh_from_db()
    assert key.last_used_at > first_use


def test_each_key_has_its_own_rate_limit(client, settings, cad_key, alarm_key):
    settings.CAD_RATE_LIMIT = "3/min"

    statuses = [post(client, {**EVENT, "external_id": f"E{n}"}, **bearer(cad_key[1])).status_code
                for n in range(4)]
    other = post(client, **bearer(alarm_key[1]))

    assert statuses == [201, 201, 201, 429]
    assert other.status_code == 201
    assert Incident.objects.filter(source="cad").count() == 3


def test_the_rate_limit_answers_with_retry_after(client, settings, cad_key):
    settings.CAD_RATE_LIMIT = "1/hour"
    post(client, **bearer(cad_key[1]))

    response = post(client, **bearer(cad_key[1]))

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0


def test_the_schema_documents_the_bearer_scheme(client, login, resident):
    schema = client.get("/api/schema/?format=json").json()

    assert schema["components"]["securitySchemes"]["integrationKey"] == {
        "type": "http", "scheme": "bearer", "description": "An integration key created by a supervisor (docs/cad.md)."}
    operation = schema["paths"]["/api/v1/cad/events/"]["post"]
    assert operation["security"] == [{"integrationKey": []}]
    assert set(operation["responses"]) >= {"200", "201", "400", "401", "403", "429"}
    assert "/api/v1/units/locations/" in schema["paths"]


# --- Admin and command --------------------------------------------------------------------------

def test_a_supervisor_creates_a_key_in_the_admin_and_sees_it_once(client, login, supervisor):
    login(client, supervisor)

    response = client.post("/admin/incidents/integrationkey/add/", {"name": "County CAD", "kind": "cad"},
                           follow=True)

    key = IntegrationKey.objects.get()
    shown = [str(message) for message in response.context["messages"]]
    raw_key = next(message.rsplit(" ", 1)[1] for message in shown if "not be shown again" in message)
    assert hashlib.sha256(raw_key.encode()).hexdigest() == key.key_hash
    assert (key.created_by, key.kind) == (supervisor, "cad")
    assert AuditEvent.objects.filter(action="integration_key.created", actor=supervisor).exists()
    listing = client.get("/admin/incidents/integrationkey/")
    assert key.prefix in listing.content.decode()
    assert raw_key not in listing.content.decode()
    assert raw_key not in client.get(f"/admin/incidents/integrationkey/{key.pk}/change/").content.decode()


def test_the_admin_cannot_change_a_keys_hash_or_kind(client, login, supervisor, cad_key):
    login(client, supervisor)
    key = cad_key[0]

    client.post(f"/admin/incidents/integrationkey/{key.pk}/change/",
                {"name": "Renamed", "kind": "avl", "key_hash": "0" * 64, "prefix": "x"})

    key.refresh_from_db()
    assert (key.name, key.kind, key.key_hash) == ("Renamed", "cad", cad_key[0].key_hash)


def test_the_revoke_action(client, login, supervisor, cad_key, alarm_key):
    login(client, supervisor)

    client.post("/admin/incidents/integrationkey/", {"action": "revoke", "_selected_action": [cad_key[0].pk]})

    cad_key[0].refresh_from_db()
    alarm_key[0].refresh_from_db()
    assert cad_key[0].revoked_at is not None
    assert alarm_key[0].revoked_at is None
    assert AuditEvent.objects.filter(action="integration_key.revoked", actor=supervisor).count() == 1
    assert post(client, **bearer(cad_key[1])).status_code == 401


def test_keys_cannot_be_deleted_in_the_admin(client, login, supervisor, cad_key):
    login(client, supervisor)

    assert client.get(f"/admin/incidents/integrationkey/{cad_key[0].pk}/delete/").status_code == 403


def test_the_command_prints_a_working_key_once(capsys, client):
    call_command("create_integration_key", "Fleet AVL", "--kind", "avl")

    output = capsys.readouterr().out
    raw_key = output.strip().splitlines()[-1]
    key = IntegrationKey.objects.get()
    assert (key.name, key.kind, key.created_by) == ("Fleet AVL", "avl", None)
    assert hashlib.sha256(raw_key.encode()).hexdigest() == key.key_hash
    response = client.post("/api/v1/units/locations/", {"locations": [{"unit": "A1", "latitude": 1, "longitude": 2}]},
                           content_type="application/json", **bearer(raw_key))
    assert response.status_code == 200
