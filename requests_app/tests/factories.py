import hashlib
import tempfile
from datetime import timedelta
from pathlib import Path

import factory
from django.utils import timezone

from incidents.models import Incident
from requests_app import submissions
from requests_app.models import FootageSubmission, Upload
from requests_app.tests.footage import place_finished_upload


class IncidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Incident

    reference = factory.Sequence(lambda n: f"2026-{n + 1:06d}")
    incident_type = Incident.Type.BURGLARY
    case_number = factory.Sequence(lambda n: f"CASE-{n:05d}")
    latitude = 40.7128
    longitude = -74.0060
    address = "100 Main St"
    window_start = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=3))
    window_end = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))


def finished_upload(footage_request, write, name="porch.mp4"):
    """An upload as the tus view leaves it once its last byte arrived: ``write(path)`` makes the file, which
    goes where the footage store keeps finished bytes, with the SHA-256 received recorded on the row."""
    upload = Upload(scope=submissions.upload_scope(footage_request), filename=name, length=0,
                    expires_at=timezone.now() + timedelta(days=1))
    upload.storage_name = submissions.evidence_storage_name(upload)
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / name
        write(source)
        upload.length = upload.offset = source.stat().st_size
        upload.sha256 = hashlib.sha256(source.read_bytes()).hexdigest()
        place_finished_upload(upload, source)
    upload.completed_at = timezone.now()
    upload.save(force_insert=True)
    return upload


def submit(footage_request, upload, capture):
    with capture(execute=True):
        submissions.submission_create(footage_request=footage_request, upload=upload,
                                      uploader=footage_request.owner)
    return FootageSubmission.objects.get(original_name=upload.filename)
