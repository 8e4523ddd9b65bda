from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.utils.translation import gettext_lazy as _

from portal.models import User

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
        (_("Police staff"), {"fields": ["is_staff", "badge_number", "groups"]}),
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
