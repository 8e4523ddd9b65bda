"""Download my data: the page, and the owner's data as streamed JSON or as a ZIP of CSV files."""

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from portal.access import owner_only
from portal.owner_data import SECTION_DESCRIPTIONS, owner_data_json, owner_data_zip
from portal.request_info import client_ip
from portal.services import account_data_export

FILE_CHUNK = 64 * 1024


@require_GET
@owner_only
def my_data(request):
    return render(request, "portal/my_data.html", {"sections": SECTION_DESCRIPTIONS.items()})


@require_GET
@owner_only
def my_data_json(request):
    account_data_export(user=request.user, export_format="json", ip_address=client_ip(request))
    pieces = (piece.encode() for piece in owner_data_json(request.user))
    return _download(request, pieces, content_type="application/json", filename=_filename(request.user, "json"))


@require_GET
@owner_only
def my_data_csv(request):
    account_data_export(user=request.user, export_format="csv", ip_address=client_ip(request))
    spool = owner_data_zip(request.user)
    size = spool.seek(0, 2)
    spool.seek(0)
    response = _download(request, _file_pieces(spool), content_type="application/zip",
                         filename=_filename(request.user, "zip"))
    response["Content-Length"] = str(size)
    return response


def _filename(user, extension):
    return f"my-camera-portal-data-{timezone.localdate():%Y-%m-%d}.{extension}"


def _file_pieces(spool):
    try:
        while piece := spool.read(FILE_CHUNK):
            yield piece
    finally:
        spool.close()


def _download(request, pieces, *, content_type, filename):
    if isinstance(request, ASGIRequest):
        pieces = _async_pieces(pieces)
    response = StreamingHttpResponse(pieces, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


async def _async_pieces(pieces):
    """Under ASGI, each piece read in the request's own sync thread (where its database connection
    lives), so the download streams instead of Django reading a synchronous iterator whole first."""
    done = object()
    read = sync_to_async(next, thread_sensitive=True)
    try:
        while (piece := await read(pieces, done)) is not done:
            yield piece
    finally:
        await sync_to_async(pieces.close, thread_sensitive=True)()
