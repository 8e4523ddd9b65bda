from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from portal.request_info import client_ip
from requests_app import services
from requests_app.access import get_footage_request_for_answer, grant_session
from requests_app.forms import DeclineForm
from requests_app.models import FootageRequest
from requests_app.tokens import token_hash


def _no_referrer(response):
    response["Referrer-Policy"] = "no-referrer"
    return response


@never_cache
def link_open(request, token):
    """/r/<token>/: the e-mailed link. Swaps the token for a session and forgets it."""
    footage_request = FootageRequest.objects.filter(token_hash=token_hash(token)).first()
    if footage_request is None:
        return _no_referrer(render(request, "requests_app/link_invalid.html", status=404))
    if footage_request.expires_at <= timezone.now() or footage_request.status == FootageRequest.Status.EXPIRED:
        return _no_referrer(render(request, "requests_app/link_invalid.html", {"expired": True}, status=410))
    grant_session(request, footage_request)
    services.footage_request_open(footage_request=footage_request, ip_address=client_ip(request))
    return _no_referrer(redirect("requests_app:answer", pk=footage_request.pk))


@never_cache
def answer(request, pk):
    footage_request = get_footage_request_for_answer(request, pk)
    if footage_request.status == FootageRequest.Status.PENDING:
        footage_request = services.footage_request_open(footage_request=footage_request,
                                                        ip_address=client_ip(request))
    context = {"footage_request": footage_request, "area_request": footage_request.area_request,
               "incident": footage_request.area_request.incident, "decline_form": DeclineForm(),
               "expired": footage_request.expires_at <= timezone.now()}
    return _no_referrer(render(request, "requests_app/answer.html", context))


@require_POST
def answer_approve(request, pk):
    footage_request = get_footage_request_for_answer(request, pk)
    try:
        services.footage_request_approve(footage_request=footage_request, ip_address=client_ip(request))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Thank you. Now add your video files below."))
    return redirect("requests_app:answer", pk=pk)


@require_POST
def answer_decline(request, pk):
    footage_request = get_footage_request_for_answer(request, pk)
    form = DeclineForm(request.POST)
    if form.is_valid():
        try:
            services.footage_request_decline(footage_request=footage_request, reason=form.cleaned_data["reason"],
                                             no_footage=form.cleaned_data["no_footage"],
                                             ip_address=client_ip(request))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Thank you for answering. The investigator will see that you declined."))
    return redirect("requests_app:answer", pk=pk)
