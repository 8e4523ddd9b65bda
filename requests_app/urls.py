from django.urls import path

from requests_app import evidence_package_views as package_views
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
    path("staff/incidents/<int:incident_pk>/evidence-packages/", package_views.package_new, name="package_new"),
    path("staff/evidence/packages/<uuid:pk>/", package_views.package_detail, name="package"),
    path("staff/evidence/packages/<uuid:pk>/download/", package_views.package_download, name="package_download"),
    path("staff/evidence/packages/<uuid:pk>/links/", package_views.package_link_create, name="package_link_create"),
    path("staff/evidence/packages/<uuid:pk>/links/<int:link_pk>/revoke/", package_views.package_link_revoke,
         name="package_link_revoke"),
    path("evidence/packages/<str:token>/", package_views.shared_package, name="shared_package"),
]
