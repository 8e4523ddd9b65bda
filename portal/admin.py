from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _

from portal.models import AuditEvent, User, Waiver, WaiverSignature
from portal.request_info import client_ip
from portal.services import waiver_create, waiver_publish


class ReadOnlyAdminMixin:
    """For records nobody edits in the admin: audit events, signatures, owners' cameras."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


admin.site.site_header = _("Community Camera Portal — staff administration")
admin.site.site_title = _("Camera Portal admin")


class UserCreationAdminForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ["email", "full_name", "badge_number"]


class UserChangeAdminForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("shift_start"), cleaned.get("shift_end")
        if (start is None) != (end is None):
            raise ValidationError(_("Set both the start and the end of the shift, or neither."))
        if start is not None and start == end:
            raise ValidationError(_("A shift cannot start and end at the same time; leave both empty for no "
                                    "shift hours."))
        return cleaned


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    add_form = UserCreationAdminForm
    form = UserChangeAdminForm
    ordering = ["email"]
    list_display = ["email", "full_name", "account_type", "business_name", "badge_number", "is_staff", "is_active"]
    list_filter = ["account_type", "is_staff", "is_active", "groups"]
    search_fields = ["email", "full_name", "business_name", "badge_number"]
    readonly_fields = ["last_login", "date_joined"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Person"), {"fields": ["full_name", "account_type", "business_name", "phone", "language"]}),
        (_("Police staff"), {"fields": ["is_staff", "badge_number", "groups", ("shift_start", "shift_end")]}),
        (_("Advanced"), {"classes": ["collapse"], "fields": ["is_active", "is_superuser", "user_permissions"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": [
            "email", "full_name", "badge_number", "usable_password", "password1", "password2",
        ]}),
    ]
    filter_horizontal = ["groups", "user_permissions"]

    def get_readonly_fields(self, request, obj=None):
        # Only superusers may grant superuser status or single permissions outside the roles.
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += ["is_superuser", "user_permissions"]
        return fields


@admin.register(Waiver)
class WaiverAdmin(admin.ModelAdmin):
    """Supervisors write drafts and publish them; a published version is never edited."""

    list_display = ["audience", "version", "title", "published_at", "is_current", "signature_count"]
    list_filter = ["audience", "is_current"]
    readonly_fields = ["version", "created_at", "created_by", "published_at", "published_by", "is_current",
                       "text_sha256"]
    actions = ["publish"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.is_published:
            fields += ["audience", "title", "body"]
        return fields

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("signatures"))
    def signature_count(self, waiver):
        return waiver.signatures.count()

    def save_model(self, request, obj, form, change):
        if change:
            if obj.is_published:
                raise PermissionDenied("Published waivers are never changed.")
            super().save_model(request, obj, form, change)
            return
        created = waiver_create(audience=obj.audience, title=obj.title, body=obj.body, actor=request.user)
        obj.pk, obj.version = created.pk, created.version

    @admin.action(description=_("Publish the selected draft (owners must sign it again)"),
                  permissions=["change"])
    def publish(self, request, queryset):
        for waiver in queryset:
            try:
                waiver_publish(waiver=waiver, actor=request.user, ip_address=client_ip(request))
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), level=messages.ERROR)
            else:
                self.message_user(request, _("Published %(waiver)s.") % {"waiver": waiver}, level=messages.SUCCESS)


@admin.register(WaiverSignature)
class WaiverSignatureAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["typed_name", "user", "waiver", "signed_at", "ip_address"]
    list_filter = ["waiver"]
    search_fields = ["typed_name", "user__email"]



@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The audit log: readable by supervisors and oversight, changeable by nobody."""

    list_display = ["id", "created_at", "actor_label", "action", "outcome", "camera_id", "incident_reference",
                    "ip_address"]
    list_filter = ["action", "outcome"]
    search_fields = ["actor_label", "action", "target", "incident_reference"]
    date_hierarchy = "created_at"

