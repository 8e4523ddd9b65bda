"""The tus endpoint owners upload footage through, under the request's rules and the city's limits."""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from portal.request_info import client_ip
from requests_app.access import get_footage_request_for_answer
from requests_app.models import FootageRequest
from requests_app.submissions import (
    can_upload,
    evidence_storage_name,
    open_submissions_total,
    submission_create,
    upload_scope,
)
from requests_app.tus import TusError, TusUploadView, human_size


class FootageUploadView(TusUploadView):
    """/requests/<pk>/uploads/: open to the owner (signed in or through the link) of an approved request."""

    def get_scope(self, request, pk):
        self.footage_request = get_footage_request_for_answer(request, pk)
        if not can_upload(self.footage_request):
            raise PermissionDenied(_("This request is not open for uploads: approve it first, or it has expired."))
        return upload_scope(self.footage_request)

    def check_creation(self, request, scope, length, metadata):
        FootageRequest.objects.select_for_update().get(pk=self.footage_request.pk)  # serialise the counting
        files, total = open_submissions_total(self.footage_request)
        if files >= settings.UPLOAD_MAX_FILES_PER_REQUEST:
            raise TusError(413, _("You can send at most %(count)s files for one request.") % {
                "count": settings.UPLOAD_MAX_FILES_PER_REQUEST})
        if total + length > settings.UPLOAD_MAX_BYTES_PER_REQUEST:
            raise TusError(413, _("All files for one request may total at most %(limit)s.") % {
                "limit": human_size(settings.UPLOAD_MAX_BYTES_PER_REQUEST)})

    def storage_name(self, upload):
        return evidence_storage_name(upload)

    def upload_completed(self, request, upload):
        owner = self.footage_request.owner
        uploader = request.user if request.user.is_authenticated and request.user.pk == owner.pk else owner
        submission_create(footage_request=self.footage_request, upload=upload, uploader=uploader,
                          ip_address=client_ip(request))
