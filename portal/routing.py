"""WebSocket routes of every app, gathered for portal.asgi."""

websocket_urlpatterns = []
