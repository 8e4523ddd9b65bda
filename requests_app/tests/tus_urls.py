"""A URL configuration for test_tus.py only: the tus view mounted for signed-in users, plus the portal's own URLs."""

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.urls import path

from portal.urls import urlpatterns as portal_urlpatterns
from requests_app.tus import TusError, TusUploadView

# (hook name, upload id) for every hook call, in order; test_tus.py empties it before each test.
EVENTS = []


class RecordingUploadView(TusUploadView):
    """Each signed-in user uploads into their own scope; every hook call is recorded in EVENTS."""

    def get_scope(self, request, **kwargs):
        if not request.user.is_authenticated:
            raise PermissionDenied("Sign in to upload footage.")
        return f"test:{request.user.pk}"

    def check_creation(self, request, scope, length, metadata):
        if metadata.get("filename", "").lower().endswith(".exe"):
            raise TusError(400, "Only video files can be uploaded.")

    def upload_created(self, request, upload):
        EVENTS.append(("created", upload.id))

    def upload_completed(self, request, upload):
        EVENTS.append(("completed", upload.id))

    def upload_terminated(self, request, upload):
        EVENTS.append(("terminated", upload.id))


def csrf_token(request):
    """Sets the csrftoken cookie and returns the token, as a page with a form would."""
    return HttpResponse(get_token(request), content_type="text/plain")


urlpatterns = [
    path("tus-test/uploads/", RecordingUploadView.as_view(), name="tus_test_create"),
    path("tus-test/uploads/<uuid:upload_id>/", RecordingUploadView.as_view(), name="tus_test_upload"),
    path("tus-test/csrf/", csrf_token, name="tus_test_csrf"),
    *portal_urlpatterns,
]
