"""ASGI entry point: HTTP through Django, WebSockets through Channels."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs Django set up first)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from portal.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)


def tune_garbage_collection():
    """Keep full garbage collections out of alert fan-out: a long-lived server holds hundreds of
    thousands of objects, and Python's default thresholds run a full collection of them (70–150 ms
    with 200 sockets open) every few alerts. The objects of start-up are moved out of the
    collector's sight (gc.freeze) and collections run less often; bench/alerts.py measures it."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


if settings.SERVER_GC_TUNING:
    tune_garbage_collection()
