from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.exceptions import ValidationError as APIValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.api_schema import SIGNED_OUT, UNSUPPORTED_MEDIA_TYPE, error, invalid
from portal.models import User
from portal.request_info import client_ip
from portal.services import live_view_notice_set


class MeSerializer(serializers.ModelSerializer):
    roles = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "email", "full_name", "display_name", "account_type", "business_name", "phone",
                  "is_staff", "roles", "language", "live_view_notice"]
        read_only_fields = fields
        extra_kwargs = {"live_view_notice": {"help_text": (
            "How the owner hears of live views of the cameras whose rules ask for it: "
            "'each' (an e-mail on every live view), 'digest' (one e-mail a day listing the previous day's "
            "views) or 'none'. Staff accounts always read 'each' and cannot change it.")}}

    def get_roles(self, user) -> list[str]:
        return list(user.groups.values_list("name", flat=True))


class MeUpdateSerializer(serializers.Serializer):
    """What an owner may change through the API: the live-view notice choice, nothing else."""

    live_view_notice = serializers.ChoiceField(
        choices=User.LiveViewNotice.choices,
        help_text="'each': an e-mail on every live view; 'digest': one e-mail a day (from NOTICE_DIGEST_HOUR, "
                  "the city's time) listing the previous day's views; 'none': no e-mail. Audited as notices.changed.",
    )

    def validate(self, attrs):
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {name: ["This field cannot be changed here; only live_view_notice can."] for name in unknown})
        return attrs


class MeView(APIView):
    """The signed-in user's own account."""

    @extend_schema(responses={200: MeSerializer, 403: SIGNED_OUT})
    def get(self, request):
        return Response(MeSerializer(request.user).data)

    @extend_schema(
        request=MeUpdateSerializer,
        responses={200: MeSerializer,
                   400: invalid("An unknown choice, or a field other than live_view_notice."),
                   403: error("Signed out, or a staff account (only owners choose notices)."),
                   415: UNSUPPORTED_MEDIA_TYPE},
        description="Change the owner's live-view notice choice. Send only `live_view_notice`.",
    )
    def patch(self, request):
        if not request.user.is_owner:
            raise PermissionDenied("Only camera owners choose live-view notices.")
        serializer = MeUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            live_view_notice_set(user=request.user, notice=serializer.validated_data["live_view_notice"],
                                 ip_address=client_ip(request))
        except ValidationError as error:
            raise APIValidationError(error.message_dict) from None
        return Response(MeSerializer(request.user).data)
