"""Open data: the transparency report as JSON and CSV, for anyone, without signing in (docs/transparency.md).

The figures are aggregates computed by portal.transparency (cached for an hour); none names a person
or places a camera more finely than a ~500 m map cell, so reading them is not audited.
"""

import csv
import io

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import renderers, serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.transparency import (
    INCIDENT_TYPE_KEYS,
    LIVE_RULE_LABELS,
    RADIUS_KEYS,
    WINDOW_KEYS,
    map_table,
    monthly_table,
    summary_table,
    transparency_report,
)


class CSVRenderer(renderers.BaseRenderer):
    """Rows (lists) as CSV; the first row is the header."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if not isinstance(data, list):  # an error body (e.g. 405) is a dict
            data = [["detail"], [data.get("detail", "") if isinstance(data, dict) else data]]
        output = io.StringIO()
        csv.writer(output, lineterminator="\r\n").writerows(data)
        return output.getvalue().encode()


def _counts(name, keys):
    """A serializer class with one integer per key (the keys are fixed: every month has them all)."""
    return type(name, (serializers.Serializer,), {key: serializers.IntegerField() for key in keys})


TransparencyByIncidentTypeSerializer = _counts("TransparencyByIncidentTypeSerializer", INCIDENT_TYPE_KEYS)
TransparencyByRadiusSerializer = _counts("TransparencyByRadiusSerializer", RADIUS_KEYS)
TransparencyByWindowSerializer = _counts("TransparencyByWindowSerializer", WINDOW_KEYS)


class TransparencyAreaRequestsSerializer(serializers.Serializer):
    total = serializers.IntegerField(help_text="Area requests sent to owners that month.")
    by_incident_type = TransparencyByIncidentTypeSerializer()
    by_radius = TransparencyByRadiusSerializer()
    by_window = TransparencyByWindowSerializer()


class TransparencyLiveRuleSerializer(serializers.Serializer):
    sessions = serializers.IntegerField()
    minutes = serializers.FloatField()


TransparencyLiveByRuleSerializer = type("TransparencyLiveByRuleSerializer", (serializers.Serializer,),
                                        {rule: TransparencyLiveRuleSerializer() for rule in LIVE_RULE_LABELS})


class TransparencyLiveSessionsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    minutes = serializers.FloatField(help_text="Minutes watched in the sessions that have ended.")
    by_rule = TransparencyLiveByRuleSerializer()


class TransparencyMonthSerializer(serializers.Serializer):
    month = serializers.CharField(help_text='"YYYY-MM" in the city\'s time zone, or "total" for the totals.')
    area_requests = TransparencyAreaRequestsSerializer()
    needed_supervisor_approval = serializers.IntegerField()
    rejected_by_supervisor = serializers.IntegerField()
    owners_asked = serializers.IntegerField()
    approved = serializers.IntegerField()
    declined = serializers.IntegerField()
    no_answer = serializers.IntegerField()
    median_seconds_to_first_answer = serializers.IntegerField(allow_null=True)
    footage_received = serializers.IntegerField()
    live_sessions = TransparencyLiveSessionsSerializer()
    cad_events = serializers.IntegerField()


class TransparencyBandSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    above = serializers.FloatField()
    up_to = serializers.FloatField(allow_null=True)


class TransparencyBandsSerializer(serializers.Serializer):
    radius_m = TransparencyBandSerializer(many=True)
    window_hours = TransparencyBandSerializer(many=True)


class TransparencyProgramSerializer(serializers.Serializer):
    cameras_registered = serializers.IntegerField()
    cameras_integrated = serializers.IntegerField()
    residents = serializers.IntegerField()
    businesses = serializers.IntegerField()


class TransparencyCellSerializer(serializers.Serializer):
    south = serializers.FloatField()
    west = serializers.FloatField()
    north = serializers.FloatField()
    east = serializers.FloatField()
    centre_lat = serializers.FloatField()
    centre_lng = serializers.FloatField()
    cameras = serializers.IntegerField()


class TransparencyMapSerializer(serializers.Serializer):
    cell_size_m = serializers.IntegerField()
    min_cameras = serializers.IntegerField()
    cells = TransparencyCellSerializer(many=True)
    cameras_not_shown = serializers.IntegerField()


class TransparencyAuditHeadSerializer(serializers.Serializer):
    events = serializers.IntegerField()
    last_id = serializers.IntegerField(allow_null=True)
    hash = serializers.CharField()
    as_of = serializers.DateTimeField()


class TransparencyReportSerializer(serializers.Serializer):
    """Only describes the report in the OpenAPI schema; the view returns the computed dict as it is."""

    generated_at = serializers.DateTimeField(help_text="When these figures were computed (refreshed hourly).")
    time_zone = serializers.CharField()
    city = serializers.CharField()
    months = serializers.ListField(child=serializers.CharField())
    bands = TransparencyBandsSerializer()
    monthly = TransparencyMonthSerializer(many=True)
    totals = TransparencyMonthSerializer()
    program = TransparencyProgramSerializer()
    map = TransparencyMapSerializer()
    audit_head = TransparencyAuditHeadSerializer()


CSV_RESPONSE = {(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR)}


class OpenDataView(APIView):
    """Public, read-only, no session needed (so no CSRF or cookies are involved)."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Access-Control-Allow-Origin"] = "*"  # open data: any site may fetch it
        response["Cache-Control"] = "public, max-age=600"
        return response


class TransparencyReportView(OpenDataView):
    """The whole transparency report: monthly figures for the last 12 months, their totals, the program's
    size, the coarse camera map and the audit chain's head."""

    renderer_classes = [renderers.JSONRenderer]

    @extend_schema(responses=TransparencyReportSerializer, tags=["open data"], auth=[])
    def get(self, request):
        return Response(transparency_report())


class _CSVView(OpenDataView):
    renderer_classes = [CSVRenderer]
    filename = ""
    table = None

    def get(self, request):
        response = Response(type(self).table(transparency_report()))
        response["Content-Disposition"] = f'inline; filename="{self.filename}"'
        return response


class TransparencyMonthlyCSVView(_CSVView):
    """One row per month (and a last row "total") with every monthly figure of the report."""

    filename = "transparency-monthly.csv"
    table = monthly_table

    @extend_schema(responses=CSV_RESPONSE, tags=["open data"], auth=[])
    def get(self, request):
        return super().get(request)


class TransparencyMapCSVView(_CSVView):
    """The coarse map: one row per ~500 m cell holding at least 5 cameras, with its bounds and count."""

    filename = "transparency-map.csv"
    table = map_table

    @extend_schema(responses=CSV_RESPONSE, tags=["open data"], auth=[])
    def get(self, request):
        return super().get(request)


class TransparencySummaryCSVView(_CSVView):
    """The program's size, the map's rules and the audit chain's head, as figure,value rows."""

    filename = "transparency-summary.csv"
    table = summary_table

    @extend_schema(responses=CSV_RESPONSE, tags=["open data"], auth=[])
    def get(self, request):
        return super().get(request)
