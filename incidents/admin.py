from django.contrib import admin, messages
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from incidents.models import Incident, IntegrationKey, UnitPosition
from portal import roles
from portal.admin import ReadOnlyAdminMixin
from portal.models import User
from portal.request_info import client_ip


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ["reference", "incident_type", "priority", "address", "window_start", "status", "source"]
    list_filter = ["status", "incident_type", "priority", "source"]
    search_fields = ["reference", "case_number", "address", "external_id"]
    readonly_fields = ["reference", "source", "external_id", "created_by", "created_at", "updated_at", "closed_at"]
    filter_horizontal = ["assigned_officers"]
    fields = ["reference", "incident_type", "priority", "case_number", "status", "latitude", "longitude", "address",
              "description", "window_start", "window_end", "assigned_officers", "source", "external_id",
              "created_by", "created_at", "updated_at", "closed_at"]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "assigned_officers":
            kwargs["queryset"] = User.objects.filter(Q(groups__name=roles.OFFICER), is_staff=True).distinct()
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        from incidents.services import INCIDENT_FIELDS, incident_create, incident_update

        fields = {name: form.cleaned_data[name] for name in INCIDENT_FIELDS}
        if change:
            incident_update(incident=obj, actor=request.user, status=form.cleaned_data["status"],
                            ip_address=client_ip(request), **fields)
        else:
            created = incident_create(created_by=request.user, ip_address=client_ip(request), **fields)
            obj.pk, obj.reference = created.pk, created.reference

    def save_related(self, request, form, formsets, change):
        # The services saved the incident; only the assigned officers remain to be stored.
        form.instance.assigned_officers.set(form.cleaned_data["assigned_officers"])


@admin.register(IntegrationKey)
class IntegrationKeyAdmin(admin.ModelAdmin):
    """Supervisors create and revoke keys here; a key is shown once, and only its hash is kept."""

    list_display = ["name", "prefix", "kind", "created_by", "created_at", "last_used_at", "last_used_ip",
                    "revoked_at"]
    list_filter = ["kind", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix"]
    actions = ["revoke"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "kind"]
        return ["name", "kind", "prefix", "created_by", "created_at", "last_used_at", "last_used_ip", "revoked_at"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["kind", "prefix", "created_by", "created_at", "last_used_at", "last_used_ip", "revoked_at"]

    def has_delete_permission(self, request, obj=None):
        # Revoked, never deleted: the audit log keeps naming the key.
        return False

    def save_model(self, request, obj, form, change):
        from incidents.services import integration_key_create

        if change:
            obj.save(update_fields=["name"])
            return
        key, raw_key = integration_key_create(name=obj.name, kind=obj.kind, created_by=request.user,
                                              ip_address=client_ip(request))
        obj.pk, obj.prefix, obj.created_at = key.pk, key.prefix, key.created_at
        messages.warning(request, _("Copy this key now; it will not be shown again: %(key)s") % {"key": raw_key})

    @admin.action(description=_("Revoke the selected keys"), permissions=["change"])
    def revoke(self, request, queryset):
        from incidents.services import integration_key_revoke

        keys = list(queryset.filter(revoked_at__isnull=True))
        for key in keys:
            integration_key_revoke(key=key, actor=request.user, ip_address=client_ip(request))
        messages.success(request, ngettext("%(count)d key revoked.", "%(count)d keys revoked.", len(keys))
                         % {"count": len(keys)})


@admin.register(UnitPosition)
class UnitPositionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: positions come from vehicle locators and officers' phones."""

    list_display = ["call_sign", "officer", "source", "latitude", "longitude", "updated_at", "stopped_at"]
    list_filter = ["source"]
    search_fields = ["call_sign"]
