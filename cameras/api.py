"""REST API: owners manage their own cameras; staff search cameras around a place."""

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, status, throttling, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.exceptions import ValidationError as APIValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from cameras import services
from cameras.geocoding import GeocoderUnavailable, geocode
from cameras.live import media_gateway_authorize
from cameras.models import Camera, SharingRules, StreamSource
from cameras.search import staff_camera_results
from portal.api_schema import NOT_FOUND, SIGNED_OUT, UNSUPPORTED_MEDIA_TYPE, error, invalid
from portal.audit import audit_record
from portal.models import Waiver, WaiverSignature
from portal.request_info import client_ip


class IsOwnerAccount(permissions.BasePermission):
    message = "This endpoint is for residents and businesses."

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.is_owner)


class CanSearchCameras(permissions.BasePermission):
    message = "Searching cameras needs police staff with the cameras.view_camera permission."

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.is_staff and user.has_perm("cameras.view_camera"))


def _raise_api_error(error):
    raise APIValidationError(error.message_dict if hasattr(error, "error_dict") else {"detail": error.messages})


class ScheduleWindowSerializer(serializers.Serializer):
    days = serializers.ListField(child=serializers.IntegerField(min_value=0, max_value=6), min_length=1)
    start = serializers.RegexField(r"^([01]\d|2[0-3]):[0-5]\d$")
    end = serializers.RegexField(r"^([01]\d|2[0-3]):[0-5]\d$")


class SharingRulesSerializer(serializers.ModelSerializer):
    schedule = ScheduleWindowSerializer(many=True, required=False)
    summary = serializers.SerializerMethodField()

    class Meta:
        model = SharingRules
        fields = ["live_mode", "schedule", "incident_radius_m", "incident_minutes", "accept_requests",
                  "paused_until", "notify_on_live_view", "location_precision", "summary"]

    def get_summary(self, rules) -> list[str]:
        return [str(line) for line in rules.summary()]


class StreamSourceSerializer(serializers.Serializer):
    """Write-only secrets: reading a camera shows only the kind and whether it was tested."""

    kind = serializers.ChoiceField(choices=StreamSource.Kind.choices)
    url = serializers.CharField(write_only=True, max_length=2000)
    username = serializers.CharField(write_only=True, required=False, allow_blank=True, default="")
    password = serializers.CharField(write_only=True, required=False, allow_blank=True, default="")
    last_test_ok = serializers.BooleanField(read_only=True, allow_null=True)


class MyCameraSerializer(serializers.ModelSerializer):
    rules = SharingRulesSerializer(required=False)
    stream = StreamSourceSerializer(required=False, allow_null=True,
                                    help_text="null when the camera has no stream source; null or left out "
                                              "keeps the current one.")
    coverage = serializers.ListField(child=serializers.ChoiceField(choices=Camera.Coverage.choices), required=False)

    class Meta:
        model = Camera
        fields = ["id", "name", "latitude", "longitude", "address", "site_kind", "coverage", "direction_degrees",
                  "access_level", "rules", "stream", "created_at"]
        read_only_fields = ["id", "created_at"]


def _rule_fields(rules, data):
    fields = {name: getattr(rules, name) for name in services.RULE_FIELDS}
    fields.update({name: value for name, value in data.items() if name in services.RULE_FIELDS})
    return fields


NOT_AN_OWNER = error("Not signed in as a resident or business, or (when registering) the current program "
                     "agreement is not signed yet.")
INVALID_CAMERA = invalid("Invalid fields; nothing was changed. The body names each field's problem.")


@extend_schema_view(
    list=extend_schema(responses={200: MyCameraSerializer(many=True), 403: NOT_AN_OWNER}),
    create=extend_schema(responses={201: MyCameraSerializer, 400: INVALID_CAMERA, 403: NOT_AN_OWNER,
                                    415: UNSUPPORTED_MEDIA_TYPE}),
    retrieve=extend_schema(responses={200: MyCameraSerializer, 403: NOT_AN_OWNER, 404: NOT_FOUND}),
    update=extend_schema(responses={200: MyCameraSerializer, 400: INVALID_CAMERA, 403: NOT_AN_OWNER,
                                    404: NOT_FOUND, 415: UNSUPPORTED_MEDIA_TYPE}),
    partial_update=extend_schema(responses={200: MyCameraSerializer, 400: INVALID_CAMERA, 403: NOT_AN_OWNER,
                                            404: NOT_FOUND, 415: UNSUPPORTED_MEDIA_TYPE}),
    destroy=extend_schema(responses={204: None, 403: NOT_AN_OWNER, 404: NOT_FOUND}),
)
class MyCameraViewSet(viewsets.ModelViewSet):
    """The signed-in owner's cameras with their sharing rules. Other owners' cameras are 404."""

    queryset = Camera.objects.none()
    serializer_class = MyCameraSerializer
    permission_classes = [IsOwnerAccount]

    def get_queryset(self):
        return Camera.objects.owned_by(self.request.user).select_related("owner", "rules", "stream")

    def perform_create(self, serializer):
        waiver = Waiver.objects.current_for(self.request.user)
        if waiver and not WaiverSignature.objects.filter(user=self.request.user, waiver=waiver).exists():
            raise PermissionDenied(_("Sign the current program agreement before registering cameras."))
        data = dict(serializer.validated_data)
        rules, stream = data.pop("rules", None), data.pop("stream", None)
        try:
            with transaction.atomic():
                camera = services.camera_register(owner=self.request.user, ip_address=client_ip(self.request), **data)
                self._save_rules_and_stream(camera, rules, stream)
        except DjangoValidationError as error:
            _raise_api_error(error)
        serializer.instance = self.get_queryset().get(pk=camera.pk)

    def perform_update(self, serializer):
        camera = serializer.instance
        data = dict(serializer.validated_data)
        rules, stream = data.pop("rules", None), data.pop("stream", None)
        location = {"latitude": data.pop("latitude", camera.latitude),
                    "longitude": data.pop("longitude", camera.longitude)}
        fields = {name: data.get(name, getattr(camera, name)) for name in services.CAMERA_FIELDS}
        try:
            with transaction.atomic():
                services.camera_update(camera=camera, actor=self.request.user, ip_address=client_ip(self.request),
                                       **location, **fields)
                self._save_rules_and_stream(camera, rules, stream)
        except DjangoValidationError as error:
            _raise_api_error(error)
        serializer.instance = self.get_queryset().get(pk=camera.pk)

    def _save_rules_and_stream(self, camera, rules, stream):
        ip_address = client_ip(self.request)
        if rules is not None:
            current = SharingRules.objects.get(camera=camera)
            services.sharing_rules_update(camera=camera, actor=self.request.user, ip_address=ip_address,
                                          **_rule_fields(current, rules))
        if stream is not None:
            services.stream_source_set(camera=camera, actor=self.request.user, ip_address=ip_address, **stream)

    def perform_destroy(self, instance):
        services.camera_delete(camera=instance, actor=self.request.user, ip_address=client_ip(self.request))


class StaffCameraSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    site_kind = serializers.CharField()
    coverage = serializers.ListField(child=serializers.CharField())
    direction_degrees = serializers.IntegerField(allow_null=True)
    access_level = serializers.CharField()
    latitude = serializers.FloatField()
    longitude = serializers.FloatField()
    location_precision = serializers.CharField()
    distance_m = serializers.FloatField()
    owner_name = serializers.CharField()
    owner_type = serializers.CharField()
    available_for_requests = serializers.BooleanField()
    unavailable_reason = serializers.CharField(allow_blank=True)


class CameraSearchParams(serializers.Serializer):
    lat = serializers.FloatField(min_value=-90, max_value=90)
    lng = serializers.FloatField(min_value=-180, max_value=180)
    radius_m = serializers.FloatField(min_value=0)

    def validate_radius_m(self, value):
        if value > settings.CAMERA_SEARCH_MAX_RADIUS_M:
            raise serializers.ValidationError(
                _("The largest search radius is %(max)s m.") % {"max": settings.CAMERA_SEARCH_MAX_RADIUS_M})
        return value


class StaffCameraSearchViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Police staff: cameras within `radius_m` metres of (`lat`, `lng`), nearest first. Audited."""

    queryset = Camera.objects.none()
    serializer_class = StaffCameraSerializer
    permission_classes = [CanSearchCameras]
    pagination_class = None

    @extend_schema(parameters=[
        OpenApiParameter("lat", OpenApiTypes.DOUBLE, required=True),
        OpenApiParameter("lng", OpenApiTypes.DOUBLE, required=True),
        OpenApiParameter("radius_m", OpenApiTypes.DOUBLE, required=True, description="metres"),
    ], responses={200: StaffCameraSerializer(many=True),
                  400: invalid("A missing or out-of-range lat, lng or radius_m (at most CAMERA_SEARCH_MAX_RADIUS_M)."),
                  403: error("Not signed in as police staff with the cameras.view_camera permission (and MFA).")})
    def list(self, request, *args, **kwargs):
        params = CameraSearchParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        lat, lng, radius_m = (params.validated_data[name] for name in ("lat", "lng", "radius_m"))
        results = staff_camera_results(lat, lng, radius_m)
        audit_record(action="camera.search", actor=request.user, ip_address=client_ip(request),
                     target=f"circle:{lat:.5f},{lng:.5f},{radius_m:.0f}",
                     details={"lat": lat, "lng": lng, "radius_m": radius_m, "found": len(results)})
        return Response(StaffCameraSerializer(results, many=True).data, status=status.HTTP_200_OK)


class MediaAuthRequestSerializer(serializers.Serializer):
    """The body MediaMTX posts to its authHTTPAddress (authMethod: http)."""

    user = serializers.CharField(required=False, allow_blank=True, default="")
    password = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False)
    token = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False)
    ip = serializers.CharField(required=False, allow_blank=True, default="")
    action = serializers.CharField(required=False, allow_blank=True, default="")
    path = serializers.CharField(required=False, allow_blank=True, default="")
    protocol = serializers.CharField(required=False, allow_blank=True, default="")
    id = serializers.CharField(required=False, allow_blank=True, allow_null=True, default="")
    query = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False)


class MediaAuthView(APIView):
    """The media gateway asks here before letting anyone read or publish a path.

    2xx allows, 401 refuses (MediaMTX's HTTP authentication contract). Reading `camera-<id>` needs
    a live-session token for that camera; publishing needs MEDIA_GATEWAY_PUBLISH_SECRET.
    """

    # The gateway is not a signed-in user: the token or the publish secret is the credential.
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(request=MediaAuthRequestSerializer, responses={
        204: OpenApiResponse(description="Allowed."),
        400: invalid("The body is not readable (e.g. malformed JSON): refused."),
        401: OpenApiResponse(description="Refused."),
        415: UNSUPPORTED_MEDIA_TYPE})
    def post(self, request):
        serializer = MediaAuthRequestSerializer(data=request.data)
        if not serializer.is_valid():
            return Response(status=status.HTTP_401_UNAUTHORIZED)
        data = serializer.validated_data
        allowed, _code = media_gateway_authorize(
            action=data["action"], path=data["path"], token=data["token"], query=data["query"], user=data["user"],
            password=data["password"], ip=data["ip"], protocol=data["protocol"])
        return Response(status=status.HTTP_204_NO_CONTENT if allowed else status.HTTP_401_UNAUTHORIZED)


# --- Address search for the camera form ---------------------------------------------------------

class GeocodeThrottle(throttling.UserRateThrottle):
    """GEOCODER_RATE_LIMIT searches per signed-in user, read at each request."""

    scope = "geocode"

    def get_rate(self):
        return settings.GEOCODER_RATE_LIMIT

    def allow_request(self, request, view):
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)


class GeocodeQuerySerializer(serializers.Serializer):
    q = serializers.CharField(min_length=3, max_length=200, error_messages={
        "required": gettext_lazy("Type an address to search for."),
        "blank": gettext_lazy("Type an address to search for."),
        "min_length": gettext_lazy("Type at least 3 characters of the address."),
        "max_length": gettext_lazy("An address has at most 200 characters."),
    })


class PlaceSerializer(serializers.Serializer):
    label = serializers.CharField()
    lat = serializers.FloatField()
    lng = serializers.FloatField()


class GeocodeView(APIView):
    """Addresses matching ?q=, best first, for placing a camera: any signed-in user (owners and staff)."""

    throttle_classes = [GeocodeThrottle]

    @extend_schema(parameters=[GeocodeQuerySerializer], responses={
        200: PlaceSerializer(many=True),
        400: invalid("q is missing, shorter than 3 or longer than 200 characters."),
        403: SIGNED_OUT,
        429: error("Over GEOCODER_RATE_LIMIT searches; retry after Retry-After seconds."),
        503: error("The address server (GEOCODER=nominatim) did not answer."),
    })
    def get(self, request):
        query = GeocodeQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        try:
            places = geocode(query.validated_data["q"])
        except GeocoderUnavailable as error:
            return Response({"detail": str(error)}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        return Response([place.as_json() for place in places])
