"""Every URL of the foundation × every role: who gets in (200), who is sent away, who is refused."""

import pytest

ROLES = ["anonymous", "resident", "business", "officer", "operator", "supervisor", "oversight"]

# url: expected status for each role, in the order of ROLES.
#               anon  res  bus  off  opr  sup  ovs
TABLE = {
    "/":                          [200, 200, 200, 200, 200, 200, 200],
    "/dashboard/":                [302, 200, 200, 302, 302, 302, 302],
    "/account/":                  [302, 200, 200, 200, 200, 200, 200],
    "/staff/":                    [302, 403, 403, 200, 200, 200, 200],
    "/admin/":                    [302, 302, 302, 200, 200, 200, 200],
    "/admin/login/":              [302, 403, 403, 302, 302, 302, 302],
    "/admin/portal/user/":        [302, 302, 302, 403, 403, 200, 403],
    "/admin/portal/user/add/":    [302, 302, 302, 403, 403, 200, 403],
    "/admin/auth/group/":         [302, 302, 302, 403, 403, 403, 403],
    "/admin/mfa/authenticator/":  [302, 302, 302, 403, 403, 403, 403],
    "/admin/django_q/schedule/":  [302, 302, 302, 403, 403, 403, 403],
    "/healthz":                   [200, 200, 200, 200, 200, 200, 200],
    "/favicon.ico":               [301, 301, 301, 301, 301, 301, 301],
    "/api/schema/":               [200, 200, 200, 200, 200, 200, 200],
    "/api/docs/":                 [200, 200, 200, 200, 200, 200, 200],
    "/api/v1/me/":                [403, 200, 200, 200, 200, 200, 200],
    "/dev/outbox/":               [404, 404, 404, 404, 404, 404, 404],
    "/accounts/login/":           [200, 302, 302, 302, 302, 302, 302],
    "/accounts/signup/":          [200, 302, 302, 302, 302, 302, 302],
    "/accounts/logout/":          [302, 200, 200, 200, 200, 200, 200],
    "/accounts/email/":           [302, 200, 200, 200, 200, 200, 200],
    "/accounts/password/change/": [302, 200, 200, 200, 200, 200, 200],
    "/accounts/password/reset/":  [200, 200, 200, 200, 200, 200, 200],
    "/accounts/2fa/":             [302, 200, 200, 200, 200, 200, 200],
    "/i18n/setlang/":             [405, 405, 405, 405, 405, 405, 405],
    "/waiver/":                   [302, 200, 200, 302, 302, 302, 302],
    "/access-log/":               [302, 200, 200, 302, 302, 302, 302],
    "/account/close/":            [302, 200, 200, 302, 302, 302, 302],
    "/account/my-data/":          [302, 200, 200, 403, 403, 403, 403],
    "/account/my-data/json/":     [302, 200, 200, 403, 403, 403, 403],
    "/account/my-data/csv/":      [302, 200, 200, 403, 403, 403, 403],
    "/account/notices/":          [405, 405, 405, 405, 405, 405, 405],
    "/cameras/new/":              [302, 200, 200, 302, 302, 302, 302],
    "/cameras/pause/":            [302, 405, 405, 302, 302, 302, 302],
    "/admin/cameras/camera/":     [302, 302, 302, 200, 200, 200, 403],
    "/admin/cameras/camera/map/": [302, 302, 302, 200, 200, 200, 403],
    "/admin/cameras/camera/add/": [302, 302, 302, 403, 403, 403, 403],
    "/admin/portal/waiver/":      [302, 302, 302, 403, 403, 200, 403],
    "/admin/portal/waiver/add/":  [302, 302, 302, 403, 403, 200, 403],
    "/admin/portal/waiversignature/": [302, 302, 302, 403, 403, 200, 403],
    "/admin/portal/auditevent/":  [302, 302, 302, 403, 403, 200, 200],
    "/admin/portal/auditevent/add/": [302, 302, 302, 403, 403, 403, 403],
    "/api/v1/me/cameras/":        [403, 200, 200, 403, 403, 403, 403],
    "/admin/requests_app/arearequest/": [302, 302, 302, 403, 200, 200, 403],
    "/admin/requests_app/footagesubmission/": [302, 302, 302, 200, 200, 200, 403],
    "/admin/incidents/incident/add/": [302, 302, 302, 403, 200, 200, 403],
    "/api/v1/cameras/":           [403, 403, 403, 400, 400, 400, 403],
}

CASES = [(url, role, statuses[index]) for url, statuses in TABLE.items() for index, role in enumerate(ROLES)]


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "role", "expected"), CASES, ids=[f"{url}-{role}" for url, role, _ in CASES])
def test_access(client, request, login, url, role, expected):
    if role != "anonymous":
        login(client, request.getfixturevalue(role))

    response = client.get(url)

    assert response.status_code == expected, response.get("Location", "")


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_the_language_switch_accepts_everyone(client, request, login, role):
    if role != "anonymous":
        login(client, request.getfixturevalue(role))

    response = client.post("/i18n/setlang/", {"language": "es", "next": "/"})

    assert response.status_code == 302
    assert response.cookies["django_language"].value == "es"


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_sign_in_with_their_destination(client):
    response = client.get("/staff/")

    assert response["Location"] == "/accounts/login/?next=/staff/"


@pytest.mark.django_db
def test_staff_opening_the_owner_dashboard_land_on_their_own_home(client, operator, login):
    login(client, operator)

    assert client.get("/dashboard/")["Location"] == "/staff/"


@pytest.mark.django_db
def test_the_staff_home_lists_what_the_role_allows_and_nothing_more(client, oversight, login):
    login(client, oversight)

    page = client.get("/staff/").content.decode()

    assert "Read the audit log" in page
    assert "Review and download submitted footage" not in page
