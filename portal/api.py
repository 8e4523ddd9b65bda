from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.models import User


class MeSerializer(serializers.ModelSerializer):
    roles = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "email", "full_name", "display_name", "account_type", "business_name", "phone",
                  "is_staff", "roles", "language"]
        read_only_fields = fields

    def get_roles(self, user) -> list[str]:
        return list(user.groups.values_list("name", flat=True))


class MeView(APIView):
    """The signed-in user's own account."""

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        return Response(MeSerializer(request.user).data)
