import os

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RequestsAppConfig(AppConfig):
    name = "requests_app"
    verbose_name = _("Footage requests")

    def ready(self):
        from requests_app.storage import forget_storage_connections

        os.register_at_fork(after_in_child=forget_storage_connections)
