import base64

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cameras import services
from cameras.forms import CameraForm, PauseForm, SharingRulesForm, StreamSourceForm
from cameras.models import Camera, StreamSource
from portal.access import owner_required
from portal.models import Waiver
from portal.request_info import client_ip


def get_camera_for_owner(request, pk):
    """The signed-in owner's camera, or 404: other owners' cameras do not exist for them."""
    return get_object_or_404(Camera.objects.owned_by(request.user).select_related("rules"), pk=pk)


def _add_errors(form, error):
    for field, messages_ in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages_)


def _waiver_signed(request):
    waiver = Waiver.objects.current_for(request.user)
    return waiver is None or waiver.signatures.filter(user=request.user).exists()


def _same_place_as(request):
    """?near=<id>: start a new camera at the address and spot of one of the owner's cameras."""
    near = request.GET.get("near", "")
    camera = Camera.objects.owned_by(request.user).filter(pk=int(near)).first() if near.isdigit() else None
    if camera is None:
        return {}
    return {"address": camera.address, "latitude": camera.latitude, "longitude": camera.longitude,
            "site_kind": camera.site_kind}


@owner_required
def camera_create(request):
    if not _waiver_signed(request):
        messages.warning(request, _("Please read and sign the program agreement before registering a camera."))
        return redirect("portal:waiver_sign")
    form = CameraForm(request.POST or None, initial=_same_place_as(request))
    if request.method == "POST" and form.is_valid():
        try:
            camera = services.camera_register(owner=request.user, ip_address=client_ip(request), **form.cleaned_data)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("“%(name)s” is registered. Now choose what police may do.") % {
                "name": camera.name})
            return redirect("cameras:rules", pk=camera.pk)
    return render(request, "cameras/camera_form.html", {"form": form, "camera": None})


@owner_required
def camera_edit(request, pk):
    camera = get_camera_for_owner(request, pk)
    form = CameraForm(request.POST or None, initial=CameraForm.initial_for(camera))
    if request.method == "POST" and form.is_valid():
        try:
            services.camera_update(camera=camera, actor=request.user, ip_address=client_ip(request),
                                   **form.cleaned_data)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("Your camera was saved."))
            return redirect("portal:dashboard")
    return render(request, "cameras/camera_form.html", {"form": form, "camera": camera})


@owner_required
def camera_rules(request, pk):
    camera = get_camera_for_owner(request, pk)
    form = SharingRulesForm(request.POST or None, camera=camera, initial=SharingRulesForm.initial_for(camera.rules))
    if request.method == "POST" and form.is_valid():
        try:
            services.sharing_rules_update(camera=camera, actor=request.user, ip_address=client_ip(request),
                                          **form.rule_fields())
            copied = 0
            if form.cleaned_data["apply_to_all"]:
                camera.refresh_from_db()
                copied = services.sharing_rules_apply_to_all(source_camera=camera, actor=request.user,
                                                             ip_address=client_ip(request))
        except ValidationError as error:
            _add_errors(form, error)
        else:
            message = _("Your rules were saved.")
            if copied:
                message += " " + _("They now apply to your %(count)s other cameras too.") % {"count": copied}
            messages.success(request, message)
            if camera.is_integrated and not hasattr(camera, "stream"):
                return redirect("cameras:stream", pk=camera.pk)
            return redirect("portal:dashboard")
    return render(request, "cameras/rules_form.html", {"form": form, "camera": camera})


@owner_required
def camera_stream(request, pk):
    camera = get_camera_for_owner(request, pk)
    if not camera.is_integrated:
        messages.info(request, _("Only integrated cameras have a live stream. Change the access level first."))
        return redirect("cameras:edit", pk=camera.pk)
    source = StreamSource.objects.filter(camera=camera).first()
    form = StreamSourceForm(request.POST or None, has_source=source is not None,
                            initial={"kind": source.kind if source else StreamSource.Kind.MJPEG})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["url"]:
                services.stream_source_set(camera=camera, actor=request.user, kind=data["kind"], url=data["url"],
                                           username=data["username"], password=data["password"],
                                           ip_address=client_ip(request))
            elif source.kind != data["kind"]:
                raise ValidationError({"url": _("Enter the address again to change the kind of stream.")})
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("The stream source was saved. Test it below."))
            return redirect("cameras:stream", pk=camera.pk)
    return render(request, "cameras/stream_form.html", {"form": form, "camera": camera, "source": source})


@owner_required
@require_POST
def camera_stream_test(request, pk):
    camera = get_camera_for_owner(request, pk)
    source = get_object_or_404(StreamSource, camera=camera)
    result = services.stream_source_test(camera=camera, actor=request.user, ip_address=client_ip(request))
    frame = base64.b64encode(result.frame_jpeg).decode() if result.frame_jpeg else None
    form = StreamSourceForm(has_source=True, initial={"kind": source.kind})
    return render(request, "cameras/stream_form.html",
                  {"form": form, "camera": camera, "source": source, "result": result, "frame": frame})


@owner_required
def camera_delete(request, pk):
    camera = get_camera_for_owner(request, pk)
    if request.method == "POST":
        services.camera_delete(camera=camera, actor=request.user, ip_address=client_ip(request))
        messages.success(request, _("“%(name)s” was removed from the program.") % {"name": camera.name})
        return redirect("portal:dashboard")
    return render(request, "cameras/camera_confirm_delete.html", {"camera": camera})


@owner_required
@require_POST
def sharing_pause(request):
    action = request.POST.get("action")
    form = PauseForm(request.POST)
    if action == "resume":
        until = None
    elif action == "pause_now":
        until = services.PAUSED_UNTIL_RESUMED
    elif form.is_valid() and form.paused_until():
        until = form.paused_until()
    else:
        messages.error(request, _("Choose a date and time to pause until, or press “Pause all my cameras now”."))
        return redirect("portal:dashboard")
    try:
        count = services.sharing_pause_all(owner=request.user, until=until, ip_address=client_ip(request))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if until is None:
            messages.success(request, _("Sharing resumed for your %(count)s cameras.") % {"count": count})
        else:
            messages.success(request, _("Sharing is paused for your %(count)s cameras.") % {"count": count})
    return redirect("portal:dashboard")
