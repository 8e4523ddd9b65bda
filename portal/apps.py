from importlib import import_module

from django.apps import AppConfig, apps
from django.contrib.admin.apps import SimpleAdminConfig
from django.utils.module_loading import module_has_submodule
from django.utils.translation import gettext_lazy as _

# django-leaflet's admin module imports GeoDjango's widgets, which need the GDAL system
# library; the portal uses plain latitude/longitude (DESIGN.md, Geography) and only Leaflet's
# assets and template tags, so that module is never imported.
ADMIN_MODULES_SKIPPED = {"leaflet"}


class PortalAdminConfig(SimpleAdminConfig):
    """The admin, discovering every app's admin.py except those in ADMIN_MODULES_SKIPPED."""

    def ready(self):
        super().ready()
        for app_config in apps.get_app_configs():
            if app_config.name not in ADMIN_MODULES_SKIPPED and module_has_submodule(app_config.module, "admin"):
                import_module(f"{app_config.name}.admin")


class PortalConfig(AppConfig):
    default = True
    name = "portal"
    verbose_name = _("Portal")

    def ready(self):
        from django.db.models.signals import post_migrate

        from portal import signals  # noqa: F401  (connects the MFA session markers)
        from portal.database import close_connection_pools_before_fork
        from portal.roles import sync_roles_after_migrate

        post_migrate.connect(sync_roles_after_migrate, sender=self)
        close_connection_pools_before_fork()
