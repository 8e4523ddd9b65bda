from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from cameras.api import MediaAuthView, MyCameraViewSet, StaffCameraSearchViewSet
from cameras.urls import live_patterns
from incidents.api import CadEventView, UnitLocationsView
from portal import oversight_views, owner_data_views, views
from portal.admin_login import admin_login
from portal.api import MeView
from portal.transparency_api import (
    TransparencyMapCSVView,
    TransparencyMonthlyCSVView,
    TransparencyReportView,
    TransparencySummaryCSVView,
)
from portal.transparency_views import transparency

portal_patterns = (
    [
        path("", views.home, name="home"),
        path("dashboard/", views.dashboard, name="dashboard"),
        path("account/", views.account, name="account"),
        path("account/close/", views.account_close_view, name="account_close"),
        path("account/notices/", views.account_notices, name="account_notices"),
        path("account/my-data/", owner_data_views.my_data, name="my_data"),
        path("account/my-data/json/", owner_data_views.my_data_json, name="my_data_json"),
        path("account/my-data/csv/", owner_data_views.my_data_csv, name="my_data_csv"),
        path("waiver/", views.waiver_sign, name="waiver_sign"),
        path("waiver/signatures/<int:pk>/", views.waiver_signature, name="waiver_signature"),
        path("access-log/", views.access_log, name="access_log"),
        path("staff/", views.staff_home, name="staff_home"),
        path("transparency/", transparency, name="transparency"),
        path("oversight/", oversight_views.audit_browser, name="oversight"),
        path("oversight/flags/", oversight_views.flag_list, name="oversight_flags"),
        path("oversight/flags/<slug:slug>/", oversight_views.flag_detail, name="oversight_flag"),
        path("oversight/export.csv", oversight_views.export_csv, name="oversight_export"),
        path("healthz", views.healthz, name="healthz"),
        path("favicon.ico", views.favicon, name="favicon"),
        path("dev/outbox/", views.outbox, name="outbox"),
        path("dev/outbox/<int:pk>/", views.outbox_detail, name="outbox_detail"),
    ],
    "portal",
)

router = SimpleRouter()
router.register("me/cameras", MyCameraViewSet, basename="my-camera")
router.register("cameras", StaffCameraSearchViewSet, basename="staff-camera")

api_v1_patterns = [
    path("me/", MeView.as_view(), name="api-me"),
    path("media-auth/", MediaAuthView.as_view(), name="api-media-auth"),
    path("cad/events/", CadEventView.as_view(), name="api-cad-events"),
    path("units/locations/", UnitLocationsView.as_view(), name="api-unit-locations"),
    path("transparency/report.json", TransparencyReportView.as_view(), name="api-transparency-report"),
    path("transparency/monthly.csv", TransparencyMonthlyCSVView.as_view(), name="api-transparency-monthly"),
    path("transparency/map.csv", TransparencyMapCSVView.as_view(), name="api-transparency-map"),
    path("transparency/summary.csv", TransparencySummaryCSVView.as_view(), name="api-transparency-summary"),
    *router.urls,
]

handler404 = "portal.views.page_not_found"

urlpatterns = [
    path("", include(portal_patterns)),
    path("cameras/", include("cameras.urls")),
    path("live/", include(live_patterns)),
    path("", include("requests_app.urls")),
    path("staff/incidents/", include("incidents.urls")),
    # The admin signs in through allauth, so lockout and MFA apply there too.
    path("admin/login/", admin_login, name="admin_login"),
    path("admin/", admin.site.urls),
    # Before allauth's own address for it, which would let staff remove their last second factor.
    path("accounts/2fa/webauthn/keys/<int:pk>/remove/", views.passkey_remove, name="passkey_remove"),
    path("accounts/", include("allauth.urls")),
    path("i18n/setlang/", views.language_switch, name="set_language"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include(api_v1_patterns)),
]
