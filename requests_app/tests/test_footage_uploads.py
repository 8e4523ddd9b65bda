"""Owners upload through the tus endpoint of their request: a real client, real video, the limits."""

import hashlib
import re
from datetime import timedelta

import pytest
import requests
from django.core import mail
from django.utils import timezone
from tusclient import client as tus_client
from tusclient.exceptions import TusCommunicationError

from requests_app import services
from requests_app.models import FootageRequest, FootageSubmission, Upload
from requests_app.tests.videos import make_mp4

TUS = {"Tus-Resumable": "1.0.0"}


def create(client, footage_request, length=10, name="clip.mp4"):
    import base64

    metadata = f"filename {base64.b64encode(name.encode()).decode()}"
    return client.post(f"/requests/{footage_request.pk}/uploads/", headers={**TUS, "Upload-Length": str(length),
                                                                            "Upload-Metadata": metadata})


def link_session(client, footage_request):
    from requests_app.access import grant_session

    session = client.session
    request = type("R", (), {"session": session})()
    grant_session(request, footage_request)
    session.save()


@pytest.mark.django_db
def test_uploads_open_only_once_the_owner_approved(client, approved_request):
    footage_request = approved_request
    FootageRequest.objects.filter(pk=footage_request.pk).update(status=FootageRequest.Status.OPENED)
    link_session(client, footage_request)

    response = create(client, footage_request)

    assert response.status_code == 403
    assert "approve it first" in response.content.decode()
    assert not Upload.objects.exists()


@pytest.mark.django_db
def test_another_requests_uploads_are_not_reachable(client, approved_request, other_owner, login):
    login(client, other_owner)

    assert create(client, approved_request).status_code == 404


@pytest.mark.django_db
def test_the_number_of_files_per_request_is_limited(client, approved_request, settings):
    settings.UPLOAD_MAX_FILES_PER_REQUEST = 1
    link_session(client, approved_request)

    assert create(client, approved_request).status_code == 201
    second = create(client, approved_request)

    assert second.status_code == 413
    assert "at most 1 files" in second.content.decode()


@pytest.mark.django_db
def test_the_total_size_per_request_is_limited(client, approved_request, settings):
    settings.UPLOAD_MAX_BYTES_PER_REQUEST = 1000
    link_session(client, approved_request)

    assert create(client, approved_request, length=600).status_code == 201
    assert create(client, approved_request, length=600).status_code == 413


@pytest.mark.django_db
def test_an_oversized_file_is_refused_before_anything_is_stored(client, approved_request, settings):
    settings.UPLOAD_MAX_FILE_BYTES = 1000
    link_session(client, approved_request)

    response = create(client, approved_request, length=1001)

    assert response.status_code == 413
    assert not Upload.objects.exists()


@pytest.mark.django_db
def test_an_expired_request_takes_no_more_uploads(client, approved_request):
    FootageRequest.objects.filter(pk=approved_request.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    link_session(client, approved_request)

    assert create(client, approved_request).status_code in (403, 404)


@pytest.mark.django_db(transaction=True)
def test_tuspy_uploads_a_real_video_through_the_emailed_link_resuming_after_an_interruption(
        live_server, operator, waivers, settings, tmp_path):
    from requests_app.tests.conftest import send_request_to_one_owner

    settings.FOOTAGE_ROOT = tmp_path / "footage"
    footage_request = send_request_to_one_owner(operator)
    link = re.search(r"http://[^/]+(/r/[\w-]+/)", mail.outbox[-1].body).group(1)
    browser = requests.Session()
    answer = browser.get(live_server.url + link)
    csrf = browser.cookies["csrftoken"]
    approved = browser.post(answer.url.rstrip("/") + "/approve/", data={"csrfmiddlewaretoken": csrf},
                            headers={"Referer": answer.url})
    assert approved.status_code == 200
    video = tmp_path / "porch.mp4"
    make_mp4(video, seconds=4, width=640, height=360)
    cookies = "; ".join(f"{name}={value}" for name, value in browser.cookies.items())
    headers = {"Cookie": cookies, "X-CSRFToken": csrf, "Referer": answer.url}
    endpoint = f"{live_server.url}/requests/{footage_request.pk}/uploads/"

    size = video.stat().st_size
    first = tus_client.TusClient(endpoint, headers=headers).uploader(str(video), chunk_size=16 * 1024,
                                                                     metadata={"filename": "porch.mp4"})
    first.upload(stop_at=size // 2)  # the connection "drops" here
    upload = Upload.objects.get()
    assert 0 < upload.offset < video.stat().st_size
    resumed = tus_client.TusClient(endpoint, headers=headers).uploader(str(video), chunk_size=16 * 1024,
                                                                       url=first.url)
    assert resumed.offset == upload.offset
    resumed.upload()

    submission = FootageSubmission.objects.get()
    assert submission.status == FootageSubmission.Status.ACCEPTED
    assert submission.sha256 == hashlib.sha256(video.read_bytes()).hexdigest()
    assert submission.media["width"] == 640


@pytest.mark.django_db(transaction=True)
def test_a_piece_over_the_cap_is_refused(live_server, operator, waivers, settings, tmp_path):
    from requests_app.tests.conftest import send_request_to_one_owner

    settings.FOOTAGE_ROOT = tmp_path / "footage"
    settings.UPLOAD_MAX_CHUNK_BYTES = 64 * 1024
    footage_request = send_request_to_one_owner(operator)
    services.footage_request_approve(footage_request=footage_request)
    browser = requests.Session()
    browser.get(live_server.url + "/r/" + "x" * 43 + "/")  # any page: a CSRF cookie
    from django.contrib.sessions.backends.db import SessionStore

    from requests_app.access import GRANTS_KEY

    session = SessionStore()
    session[GRANTS_KEY] = {str(footage_request.pk): timezone.now().timestamp() + 3600}
    session.save()
    browser.cookies.set("sessionid", session.session_key)
    video = tmp_path / "big.bin"
    video.write_bytes(b"\0" * 200_000)
    headers = {"X-CSRFToken": browser.cookies.get("csrftoken", ""), "Referer": live_server.url + "/"}
    headers["Cookie"] = "; ".join(f"{n}={v}" for n, v in browser.cookies.items())
    uploader = tus_client.TusClient(f"{live_server.url}/requests/{footage_request.pk}/uploads/",
                                    headers=headers).uploader(str(video), chunk_size=100_000)

    with pytest.raises(TusCommunicationError) as error:
        uploader.upload()

    assert error.value.status_code == 413
    assert Upload.objects.get().offset == 0


@pytest.mark.django_db
def test_a_declined_requests_link_takes_no_uploads(client, approved_request):
    FootageRequest.objects.filter(pk=approved_request.pk).update(status=FootageRequest.Status.DECLINED)
    link_session(client, approved_request)

    assert create(client, approved_request).status_code == 403
    assert not Upload.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["operator", "supervisor", "officer", "oversight", "other_owner"])
def test_nobody_but_the_owner_uploads(client, approved_request, request, login, role):
    login(client, request.getfixturevalue(role))

    response = create(client, approved_request)

    assert response.status_code in (403, 404)
    assert not Upload.objects.exists()
