from django.urls import path

from incidents.consumers import StaffEventsConsumer, UnitShareConsumer

websocket_urlpatterns = [
    path("ws/incidents/<int:incident_id>/", StaffEventsConsumer.as_asgi()),
    path("ws/feed/", StaffEventsConsumer.as_asgi()),
    path("ws/me/", StaffEventsConsumer.as_asgi(), {"stream": "me"}),
    path("ws/units/me/", UnitShareConsumer.as_asgi()),
]
