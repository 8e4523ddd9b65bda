from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from portal.admin import ReadOnlyAdminMixin
from portal.request_info import client_ip
from requests_app.models import AreaRequest, FootageRequest, FootageSubmission
from requests_app.services import area_request_decide


class FootageRequestInline(admin.TabularInline):
    model = FootageRequest
    fields = ["owner", "camera_names", "status", "email_state", "email_attempts", "email_last_error", "email_sent_at",
              "opened_at", "answered_at", "expires_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(AreaRequest)
class AreaRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Area requests and each owner's delivery state; supervisors approve or reject from here."""

    list_display = ["pk", "incident", "radius_m", "window_start", "sender", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["incident__reference", "case_number"]
    inlines = [FootageRequestInline]
    actions = ["approve", "reject"]

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.has_perm("requests_app.approve_arearequest"):
            actions.pop("approve", None)
            actions.pop("reject", None)
        return actions

    def _decide(self, request, queryset, approve):
        for area_request in queryset:
            try:
                area_request_decide(area_request=area_request, supervisor=request.user, approve=approve,
                                    ip_address=client_ip(request))
            except ValidationError as error:
                self.message_user(request, f"#{area_request.pk}: {' '.join(error.messages)}", level=messages.ERROR)

    @admin.action(description=_("Approve and send the selected requests"))
    def approve(self, request, queryset):
        self._decide(request, queryset, True)

    @admin.action(description=_("Reject the selected requests"))
    def reject(self, request, queryset):
        self._decide(request, queryset, False)


@admin.register(FootageSubmission)
class FootageSubmissionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Evidence: every view and download goes through the audited evidence pages."""

    list_display = ["original_name", "status", "retention", "size", "sha256", "created_at", "evidence_links"]
    list_select_related = ["footage_request__area_request__incident", "tombstone"]
    list_filter = ["status"]
    search_fields = ["original_name", "sha256", "footage_request__area_request__incident__reference"]

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("requests_app.view_footage")

    def get_queryset(self, request):
        from incidents.models import Incident

        # Officers see the footage of the incidents assigned to them only.
        visible = Incident.objects.visible_to(request.user)
        return super().get_queryset(request).filter(footage_request__area_request__incident__in=visible)

    @admin.display(description=_("retention"))
    def retention(self, submission):
        from django.utils import timezone
        from django.utils.formats import date_format

        from requests_app.retention import retention_state

        state = retention_state(submission, timezone.now())
        label = state.staff_label
        if state.deletion_date:
            return f"{label} · {date_format(timezone.localtime(state.deletion_date), 'DATE_FORMAT')}"
        return label

    @admin.display(description=_("evidence"))
    def evidence_links(self, submission):
        if submission.status != FootageSubmission.Status.ACCEPTED:
            return "—"
        return format_html('<a href="{}">{}</a> · <a href="{}">{}</a>',
                           reverse("requests_app:evidence_file", args=[submission.pk]) + "?download=1",
                           _("download"), reverse("requests_app:custody_report", args=[submission.pk]),
                           _("chain of custody"))
