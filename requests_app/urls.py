from django.urls import path

from requests_app import views
from requests_app.uploads import FootageUploadView

app_name = "requests_app"
urlpatterns = [
    path("r/<str:token>/", views.link_open, name="link"),
    path("requests/<int:pk>/", views.answer, name="answer"),
    path("requests/<int:pk>/approve/", views.answer_approve, name="approve"),
    path("requests/<int:pk>/decline/", views.answer_decline, name="decline"),
    path("requests/<int:pk>/uploads/", FootageUploadView.as_view(), name="uploads"),
    path("requests/<int:pk>/uploads/<uuid:upload_id>/", FootageUploadView.as_view(), name="upload"),
    path("staff/evidence/<int:pk>/file/", views.evidence_file, name="evidence_file"),
    path("staff/evidence/<int:pk>/custody/", views.custody_report, name="custody_report"),
    path("staff/evidence/<int:pk>/hold/", views.footage_hold, name="hold"),
]
