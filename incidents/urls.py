from django.urls import path

from incidents import views
from requests_app import views as request_views

app_name = "incidents"
urlpatterns = [
    path("", views.incident_list, name="list"),
    path("new/", views.incident_new, name="new"),
    path("<int:pk>/", views.incident_detail, name="detail"),
    path("<int:pk>/live/", views.incident_live, name="live"),
    path("rtcc/", views.rtcc, name="rtcc"),
    path("rtcc/map/", views.rtcc_map, name="rtcc_map"),
    path("mine/", views.officer_home, name="officer"),
    path("<int:pk>/preview/", views.incident_preview, name="preview"),
    path("<int:incident_pk>/requests/", request_views.area_request_send, name="send_request"),
    path("approvals/", views.approvals, name="approvals"),
    path("feed/", views.feed, name="feed"),
    path("approvals/<int:pk>/", request_views.area_request_decide, name="decide"),
]
