from django.urls import path

from cameras import views
from cameras.api import GeocodeView

app_name = "cameras"
urlpatterns = [
    path("new/", views.camera_create, name="create"),
    path("<int:pk>/edit/", views.camera_edit, name="edit"),
    path("<int:pk>/rules/", views.camera_rules, name="rules"),
    path("<int:pk>/stream/", views.camera_stream, name="stream"),
    path("<int:pk>/stream/test/", views.camera_stream_test, name="stream_test"),
    path("<int:pk>/stream/onvif/", views.camera_stream_onvif, name="stream_onvif"),
    path("<int:pk>/delete/", views.camera_delete, name="delete"),
    path("pause/", views.sharing_pause, name="pause"),
    path("geocode/", GeocodeView.as_view(), name="geocode"),
]

# Included at /live/ by portal/urls.py (namespace "live"); async views served by daphne.
live_patterns = (
    [
        path("sessions/", views.live_session_create, name="sessions"),
        path("<str:token>/mjpeg", views.live_mjpeg, name="mjpeg"),
        path("<str:token>/snapshot.jpg", views.live_snapshot, name="snapshot"),
        path("<str:token>/hls/<path:path>", views.live_hls, name="hls"),
        path("<str:token>/status", views.live_status, name="status"),
        path("<str:token>/end", views.live_end, name="end"),
    ],
    "live",
)
