from django.contrib import admin
from django.db.models import Q

from incidents.models import Incident
from portal import roles
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
