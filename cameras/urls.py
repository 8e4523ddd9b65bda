from django.urls import path

from cameras import views

app_name = "cameras"
urlpatterns = [
    path("new/", views.camera_create, name="create"),
    path("<int:pk>/edit/", views.camera_edit, name="edit"),
    path("<int:pk>/rules/", views.camera_rules, name="rules"),
    path("<int:pk>/stream/", views.camera_stream, name="stream"),
    path("<int:pk>/stream/test/", views.camera_stream_test, name="stream_test"),
    path("<int:pk>/delete/", views.camera_delete, name="delete"),
    path("pause/", views.sharing_pause, name="pause"),
]
