import pytest

pytestmark = pytest.mark.django_db


def test_me_returns_the_signed_in_owner(client, business, login):
    login(client, business)

    body = client.get("/api/v1/me/").json()

    assert body["email"] == "shop@example.org"
    assert body["display_name"] == "Bo's Bakery"
    assert body["account_type"] == "business"
    assert body["roles"] == []


def test_me_lists_a_staff_members_roles(client, supervisor, login):
    login(client, supervisor)

    assert client.get("/api/v1/me/").json()["roles"] == ["Supervisor"]


def test_me_is_read_only(client, resident, login):
    login(client, resident)

    assert client.put("/api/v1/me/", {"email": "x@example.org"}, content_type="application/json").status_code == 405


def test_the_openapi_schema_describes_the_api(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")

    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/me/" in schema["paths"]


def test_the_interactive_docs_load_their_assets_locally(client):
    page = client.get("/api/docs/").content.decode()

    assert "cdn" not in page.lower()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
