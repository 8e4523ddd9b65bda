from datetime import timedelta

import factory
from django.utils import timezone

from incidents.models import Incident
from requests_app import submissions
from requests_app.models import FootageSubmission, Upload


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
    upload = Upload.objects.create(scope=submissions.upload_scope(footage_request), filename=name, length=0,
                                   expires_at=timezone.now() + timedelta(days=1))
    upload.path.parent.mkdir(parents=True, exist_ok=True)
    write(upload.path)
    size = upload.path.stat().st_size
    Upload.objects.filter(pk=upload.pk).update(length=size, offset=size, completed_at=timezone.now())
    upload.refresh_from_db()
    return upload


def submit(footage_request, upload, capture):
    with capture(execute=True):
        submissions.submission_create(footage_request=footage_request, upload=upload,
                                      uploader=footage_request.owner)
    return FootageSubmission.objects.get(original_name=upload.filename)
