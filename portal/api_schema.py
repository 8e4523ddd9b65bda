"""The error answers of the API, as the OpenAPI schema describes them.

Each operation lists, with `extend_schema(responses=...)`, every status code it can return;
portal/tests/test_api_fuzz.py fails on any answer the schema does not declare.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """Most error answers: one message saying what went wrong."""

    detail = serializers.CharField()


def error(description):
    """An error answer whose body is {"detail": "..."}."""
    return OpenApiResponse(ErrorSerializer, description=description)


def invalid(description):
    """A 400: the body names each field's problems ({"field": ["message", ...]}), or says the body is unreadable
    ({"detail": "JSON parse error ..."})."""
    return OpenApiResponse(OpenApiTypes.OBJECT, description=description)


SIGNED_OUT = error("Not signed in, or signed in without the role this needs. Staff must also have passed MFA.")
NOT_FOUND = error("No such object among those the caller may see.")
UNSUPPORTED_MEDIA_TYPE = error("The body is not JSON, form data or multipart.")
