"""compose.yaml gives the portal's S3 identity only Read, Write, List and Tagging on the footage bucket. That is
enough for everything the portal does with footage, and nothing more: checked on a real SeaweedFS server with
exactly the actions compose.yaml writes."""

import hashlib
import json
import re

import pytest

from portal.tests.deploy_files import compose
from requests_app.models import FootageSubmission
from requests_app.storage import footage_storage
from requests_app.tests.s3server import S3Server
from requests_app.tests.test_tus import patch
from requests_app.tus import delete_expired_uploads

MiB = 1024 * 1024


def compose_actions():
    """The actions of the identity the s3 service writes into its s3.config."""
    (script,) = compose()["services"]["s3"]["command"]  # one shell script, run by sh -c
    document = re.search(r"printf '(\{.*\})'", script).group(1).replace("%s", "key")
    (identity,) = json.loads(document)["identities"]
    return identity["actions"]


def test_compose_limits_the_portal_to_the_footage_bucket():
    assert sorted(compose_actions()) == ["List:footage", "Read:footage", "Tagging:footage", "Write:footage"]


@pytest.fixture(scope="module")
def limited_server():
    server = S3Server(bucket="footage", limited_actions=compose_actions()).start()
    yield server
    server.stop()


@pytest.mark.django_db
def test_uploads_processing_downloads_and_clean_up_work_with_those_rights_alone(
        client, login, approved_request, limited_server, settings, operator, django_capture_on_commit_callbacks):
    settings.STORAGES = {**settings.STORAGES, "footage": {"BACKEND": "requests_app.storage.S3FootageStorage",
                                                          "OPTIONS": limited_server.storage_options(limited=True)}}
    from requests_app.tests.videos import make_mp4

    video = settings.FOOTAGE_ROOT.parent / "clip.mp4"
    make_mp4(video, seconds=2)
    data = video.read_bytes()
    login(client, approved_request.owner)
    base = f"/requests/{approved_request.pk}/uploads/"
    response = client.post(base, data=b"", content_type="application/octet-stream",
                           headers={"Tus-Resumable": "1.0.0", "Upload-Length": str(12 * MiB),
                                    "Upload-Metadata": "filename Y2xpcC5tcDQ="})
    assert response.status_code == 201
    abandoned = response["Location"]
    assert patch(client, abandoned, b"\0" * 6 * MiB, 0).status_code == 204  # a part
    assert patch(client, abandoned, b"\0" * MiB, 6 * MiB).status_code == 204  # a staged piece
    assert client.delete(abandoned, headers={"Tus-Resumable": "1.0.0"}).status_code == 204  # abort, delete

    response = client.post(base, data=b"", content_type="application/octet-stream",
                           headers={"Tus-Resumable": "1.0.0", "Upload-Length": str(len(data)),
                                    "Upload-Metadata": "filename Y2xpcC5tcDQ="})
    with django_capture_on_commit_callbacks(execute=True):
        assert patch(client, response["Location"], data, 0).status_code == 204
    submission = FootageSubmission.objects.get()
    assert submission.status == FootageSubmission.Status.ACCEPTED

    login(client, operator)
    download = client.get(f"/staff/evidence/{submission.pk}/file/", {"download": "1"})
    assert hashlib.sha256(b"".join(download.streaming_content)).hexdigest() == hashlib.sha256(data).hexdigest()
    assert delete_expired_uploads() == 0  # lists multipart uploads and staged pieces

    storage = footage_storage()
    with pytest.raises(Exception, match="AccessDenied"):
        storage.client.put_object(Bucket="another-bucket", Key="x", Body=b"x")
