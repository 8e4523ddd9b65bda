"""The integration API: dispatch (CAD) and alarm systems post events, vehicle locators post unit positions.

These endpoints accept only integration keys (`Authorization: Bearer <key>`), never a browser
session: a signed-in staff member cannot post events by accident or through a forged page.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import authentication, exceptions, permissions, serializers, status, throttling
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents import cad
from incidents.models import Incident, IntegrationKey, UnitPosition
from incidents.services import cad_event_receive, integration_key_for, integration_key_touch
from incidents.units import unit_locations_record
from portal.api_schema import UNSUPPORTED_MEDIA_TYPE, error, invalid
from portal.request_info import client_ip

# Clocks drift: an event may be stamped a little ahead of the server, not more.
MAX_FUTURE = timedelta(minutes=5)
MAX_LOCATIONS_PER_BATCH = 500


# --- Authentication, permission, rate limit --------------------------------------------------------

class IntegrationKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <key>` with an unrevoked integration key; the key becomes `request.auth`."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Send the key as \"Authorization: Bearer <key>\"."))
        try:
            raw_key = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed(_("Unknown or revoked integration key.")) from None
        key = integration_key_for(raw_key)
        if key is None:
            raise exceptions.AuthenticationFailed(_("Unknown or revoked integration key."))
        integration_key_touch(key=key, ip_address=client_ip(request))
        # No person is signed in: the key is the caller, and it holds no staff permission.
        return AnonymousUser(), key

    def authenticate_header(self, request):
        return f'{self.keyword} realm="integrations"'


class IntegrationKeyScheme(OpenApiAuthenticationExtension):
    target_class = "incidents.api.IntegrationKeyAuthentication"
    name = "integrationKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer",
                "description": "An integration key created by a supervisor (docs/cad.md)."}


class _KeyOfKind(permissions.BasePermission):
    kinds = ()
    message = _("This integration key may not post here.")

    def has_permission(self, request, view):
        key = request.auth
        return isinstance(key, IntegrationKey) and key.kind in self.kinds


class EventKeyRequired(_KeyOfKind):
    kinds = (IntegrationKey.Kind.CAD, IntegrationKey.Kind.ALARM)
    message = _("Only CAD and alarm keys may post events.")


class LocatorKeyRequired(_KeyOfKind):
    kinds = (IntegrationKey.Kind.AVL,)
    message = _("Only vehicle-locator (AVL) keys may post unit locations.")


class IntegrationKeyThrottle(throttling.SimpleRateThrottle):
    """CAD_RATE_LIMIT requests per key, read at each request so a changed setting applies at once."""

    scope = "integration-key"

    def get_rate(self):
        return settings.CAD_RATE_LIMIT

    def allow_request(self, request, view):
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        key = request.auth
        return f"throttle-integration-key-{key.pk}" if isinstance(key, IntegrationKey) else None


class IntegrationView(APIView):
    authentication_classes = [IntegrationKeyAuthentication]
    throttle_classes = [IntegrationKeyThrottle]


# --- Fields ------------------------------------------------------------------------------------------

class AwareDateTimeField(serializers.DateTimeField):
    """ISO 8601 with a UTC offset (or Z); refuses times too far in the future."""

    default_error_messages = {
        "naive": _("Give the time with its UTC offset, e.g. 2026-11-22T14:05:00-05:00 or 2026-11-22T19:05:00Z."),
        "future": _("This time is more than 5 minutes in the future; check the sending system's clock."),
    }

    def enforce_timezone(self, value):
        if timezone.is_naive(value):
            self.fail("naive")
        if value > timezone.now() + MAX_FUTURE:
            self.fail("future")
        return super().enforce_timezone(value)


@extend_schema_field({"oneOf": [{"type": "integer", "minimum": 1, "maximum": 3},
                               {"type": "string", "enum": ["emergency", "urgent", "routine"]}]})
class PriorityField(serializers.Field):
    default_error_messages = {"invalid": _("Use 1, 2 or 3, or \"emergency\", \"urgent\" or \"routine\".")}

    def to_internal_value(self, data):
        priority = cad.priority_for(data)
        if priority is None:
            self.fail("invalid")
        return priority

    def to_representation(self, value):
        return int(value)


class CadEventSerializer(serializers.Serializer):
    """An event; on an update, fields left out keep their value."""

    external_id = serializers.CharField(max_length=100, help_text="The CAD's or alarm company's event number.")
    event_type = serializers.CharField(max_length=100, help_text="The event type in the CAD's words, "
                                       "e.g. \"Burglary\", \"Shots fired\", \"Panic alarm\".")
    priority = PriorityField(required=False, help_text="1-3, or emergency / urgent / routine "
                             "(new incidents default to 2, urgent).")
    latitude = serializers.FloatField(min_value=-90, max_value=90)
    longitude = serializers.FloatField(min_value=-180, max_value=180)
    address = serializers.CharField(max_length=255, required=False, allow_blank=True)
    occurred_at = AwareDateTimeField(required=False, help_text="ISO 8601 with offset; default: now.")
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=Incident.Status.choices, required=False)
    units = serializers.ListField(child=serializers.CharField(max_length=32), max_length=50, required=False,
                                  help_text="Badge numbers of the officers dispatched (replaces the list).")


class CadEventResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    created = serializers.BooleanField()
    url = serializers.URLField()
    unknown_units = serializers.ListField(child=serializers.CharField(),
                                          help_text="Badge numbers in `units` that match no staff member.")


class UnitLocationSerializer(serializers.Serializer):
    unit = serializers.CharField(max_length=32, help_text="The unit's call sign, e.g. \"A12\".")
    latitude = serializers.FloatField(min_value=-90, max_value=90)
    longitude = serializers.FloatField(min_value=-180, max_value=180)
    accuracy = serializers.FloatField(min_value=0, max_value=100_000, required=False, allow_null=True, default=None,
                                      source="accuracy_m", help_text="Metres.")
    heading = serializers.FloatField(min_value=0, max_value=360, required=False, allow_null=True, default=None,
                                     help_text="Degrees clockwise from north.")
    speed = serializers.FloatField(min_value=0, max_value=150, required=False, allow_null=True, default=None,
                                   help_text="Metres per second.")
    recorded_at = AwareDateTimeField(required=False, allow_null=True, default=None,
                                     help_text="ISO 8601 with offset; default: now.")


class UnitLocationBatchSerializer(serializers.Serializer):
    locations = UnitLocationSerializer(many=True, allow_empty=False, max_length=MAX_LOCATIONS_PER_BATCH)


class UnitLocationResultSerializer(serializers.Serializer):
    saved = serializers.IntegerField()
    ignored = serializers.IntegerField(help_text="Positions older than the one already stored for their unit.")


ERRORS = {
    400: invalid("Invalid fields; nothing was written. The body names each field's problem."),
    401: error("No key, or an unknown or revoked key."),
    403: error("The key's kind may not post here."),
    415: UNSUPPORTED_MEDIA_TYPE,
    429: error("Over the key's rate limit (CAD_RATE_LIMIT); retry after Retry-After seconds."),
}


# --- Views --------------------------------------------------------------------------------------------

class CadEventView(IntegrationView):
    """A dispatch (CAD) or alarm event: opens an incident, or updates the one with the same external id."""

    permission_classes = [EventKeyRequired]

    @extend_schema(request=CadEventSerializer, responses={200: CadEventResultSerializer, 201: CadEventResultSerializer,
                                                          **ERRORS}, tags=["integrations"])
    def post(self, request):
        serializer = CadEventSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            result = cad_event_receive(key=request.auth, ip_address=client_ip(request), **serializer.validated_data)
        except DjangoValidationError as error:
            raise serializers.ValidationError(serializers.as_serializer_error(error)) from None
        incident = result.incident
        body = {"id": incident.pk, "reference": incident.reference, "created": result.created,
                "url": request.build_absolute_uri(reverse("incidents:detail", args=[incident.pk])),
                "unknown_units": result.unknown_units}
        return Response(CadEventResultSerializer(body).data,
                        status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)


class UnitLocationsView(IntegrationView):
    """Latest positions of patrol units from a vehicle locator (AVL), up to 500 per request."""

    permission_classes = [LocatorKeyRequired]

    @extend_schema(request=UnitLocationBatchSerializer, responses={200: UnitLocationResultSerializer, **ERRORS},
                   tags=["integrations"])
    def post(self, request):
        serializer = UnitLocationBatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        now = timezone.now()
        locations = [{**location, "recorded_at": location["recorded_at"] or now}
                     for location in serializer.validated_data["locations"]]
        result = unit_locations_record(locations=locations, source=UnitPosition.Source.AVL)
        return Response(UnitLocationResultSerializer(result).data)
