"""WebSocket routes of every app, gathered for portal.asgi."""

from incidents.routing import websocket_urlpatterns as incident_routes

websocket_urlpatterns = [*incident_routes]
