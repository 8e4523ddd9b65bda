
from django.contrib import admin
from django.db.models import Exists, OuterRef
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cameras.geo import approximate_location
from cameras.models import Camera, LiveSession, SharingRules
from portal.admin import ReadOnlyAdminMixin
from portal.models import WaiverSignature


class PausedFilter(admin.SimpleListFilter):
    title = _("paused")
    parameter_name = "paused"

    def lookups(self, request, model_admin):
        return [("yes", _("Paused now")), ("no", _("Sharing"))]

    def queryset(self, request, queryset):
        paused = {"rules__paused_until__gt": timezone.now()}
        if self.value() == "yes":
            return queryset.filter(**paused)
        if self.value() == "no":
            return queryset.exclude(**paused)
        return queryset


class WaiverStateFilter(admin.SimpleListFilter):
    title = _("owner's agreement")
    parameter_name = "waiver"

    def lookups(self, request, model_admin):
        return [("current", _("Current version signed")), ("missing", _("Not signed or outdated"))]

    def queryset(self, request, queryset):
        signed = Exists(WaiverSignature.objects.current().filter(user=OuterRef("owner")))
        if self.value() == "current":
            return queryset.filter(signed)
        if self.value() == "missing":
            return queryset.exclude(signed)
        return queryset


class SharingRulesInline(admin.StackedInline):
    model = SharingRules
    can_delete = False
    fields = ["live_mode", "schedule", "incident_radius_m", "incident_minutes", "accept_requests", "paused_until",
              "notify_on_live_view", "location_precision"]
    readonly_fields = fields


@admin.register(Camera)
class CameraAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Staff see cameras and their owners' contact details; only owners change them."""

    list_display = ["name", "owner_name", "address", "site_kind", "access_level", "live_rule", "created_at"]
    list_filter = ["access_level", "site_kind", PausedFilter, WaiverStateFilter]
    search_fields = ["name", "address", "owner__email", "owner__business_name", "owner__full_name"]
    list_select_related = ["owner", "rules"]
    fields = ["name", "address", "latitude", "longitude", "site_kind", "coverage", "direction_degrees",
              "access_level", "owner_name", "owner_email", "owner_phone", "created_at"]
    readonly_fields = fields
    inlines = [SharingRulesInline]

    @admin.display(description=_("owner"))
    def owner_name(self, camera):
        return camera.owner.display_name

    @admin.display(description=_("owner e-mail"))
    def owner_email(self, camera):
        return camera.owner.email

    @admin.display(description=_("owner phone"))
    def owner_phone(self, camera):
        return camera.owner.phone or "—"

    @admin.display(description=_("live access"))
    def live_rule(self, camera):
        return camera.rules.get_live_mode_display() if camera.is_integrated else "—"

    def get_urls(self):
        return [path("map/", self.admin_site.admin_view(self.map_view), name="cameras_camera_map"),
                *super().get_urls()]

    def map_view(self, request):
        """Every camera on one map, placed as staff may see it (approximate where the owner chose)."""
        if not self.has_view_permission(request):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        points = []
        for camera in Camera.objects.visible_to_staff().select_related("rules", "owner"):
            lat, lng = camera.latitude, camera.longitude
            if camera.rules.location_precision == SharingRules.Precision.APPROXIMATE:
                lat, lng = approximate_location(lat, lng)
            points.append({"name": camera.name, "lat": lat, "lng": lng, "integrated": camera.is_integrated,
                           "url": f"../{camera.pk}/change/"})
        context = {**self.admin_site.each_context(request), "title": _("Map of all cameras"),
                   "points": points, "count": len(points), "opts": self.model._meta}
        return TemplateResponse(request, "admin/cameras/camera_map.html", context)


@admin.register(LiveSession)
class LiveSessionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Who watched which camera live, when and why; written only by cameras.live, never edited here."""

    list_display = ["started_at", "viewer", "camera", "incident", "kind", "ended_at", "end_code"]
    list_filter = ["kind", "end_code"]
    list_select_related = ["viewer", "camera", "incident"]
    search_fields = ["viewer__full_name", "viewer__badge_number", "camera__name", "incident__reference"]
    date_hierarchy = "started_at"
    exclude = ["token_hash"]
