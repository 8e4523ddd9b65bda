"""Who may open a footage request: its owner, signed in, or whoever holds a valid e-mailed link."""

import time

from django.conf import settings
from django.http import Http404

from requests_app.models import FootageRequest

GRANTS_KEY = "footage_request_grants"


def grant_session(request, footage_request):
    """Exchange a link token for a short session, so the token need not travel again."""
    grants = request.session.get(GRANTS_KEY, {})
    grants[str(footage_request.pk)] = time.time() + settings.FOOTAGE_LINK_SESSION_HOURS * 3600
    request.session[GRANTS_KEY] = grants


def _granted(request, pk):
    expiry = request.session.get(GRANTS_KEY, {}).get(str(pk))
    return expiry is not None and expiry > time.time()


def get_footage_request_for_answer(request, pk):
    """The request, if the visitor is its signed-in owner or holds a live grant for it; else 404."""
    queryset = FootageRequest.objects.select_related("owner", "area_request__incident", "area_request__sender")
    footage_request = queryset.filter(pk=pk).first()
    if footage_request is None:
        raise Http404("No such request.")
    user = request.user
    if (user.is_authenticated and user.pk == footage_request.owner_id) or _granted(request, pk):
        return footage_request
    raise Http404("No such request.")
