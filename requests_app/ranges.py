"""Serving a private file from the footage storage with HTTP Range support, so browsers can seek in a video.

The bytes stream in pieces straight from the storage (a folder or an S3 bucket): a 10 GiB download never
sits in memory. Under ASGI (daphne) the pieces come from an asynchronous iterator, read in a worker
thread each, because Django would otherwise read a synchronous iterator whole before sending it.
"""

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor

from django.core.handlers.asgi import ASGIRequest
from django.http import HttpResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 256 * 1024


def _requested_range(range_header, size):
    """(start, end) inclusive for a single "bytes=" range, None for the whole file, "unsatisfiable" otherwise."""
    match = _RANGE.match(range_header.strip()) if range_header else None
    if not match or (match.group(1) == "" and match.group(2) == ""):
        return None
    first, last = match.groups()
    if first == "":  # a suffix: the last N bytes
        start, end = max(size - int(last), 0), size - 1
    else:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    if start >= size or start > end:
        return "unsatisfiable"
    return start, end


async def _async_pieces(pieces):
    """The pieces of a synchronous iterator, read in a thread of this response's own.

    One thread per response keeps the reads in order: when the client goes away mid-read, the iterator is
    closed (releasing its file or S3 connection) only after the piece being read.
    """
    loop = asyncio.get_running_loop()
    reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="footage-stream")
    done = object()
    try:
        while (piece := await loop.run_in_executor(reader, next, pieces, done)) is not done:
            yield piece
    finally:
        reader.submit(pieces.close)
        reader.shutdown(wait=False)


def stream_pieces(request, pieces):
    """`pieces` (a generator of bytes) as a streaming response should take them for this request: under
    ASGI read in a thread of the response's own, so Django never collects them whole first."""
    return _async_pieces(pieces) if isinstance(request, ASGIRequest) else pieces


def ranged_footage_response(request, storage, name, *, download, filename, content_type):
    """The stored file, whole (200) or the range asked for (206), or 416 for a range outside it."""
    size = storage.size(name)
    wanted = _requested_range(request.headers.get("Range", ""), size)
    if wanted == "unsatisfiable":
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    start, end = wanted or (0, size - 1)
    pieces = stream_pieces(request, storage.iter_range(name, start, end - start + 1, chunk_size=CHUNK))
    response = StreamingHttpResponse(pieces, status=206 if wanted else 200, content_type=content_type)
    if wanted:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Content-Length"] = str(end - start + 1)
    response["Content-Disposition"] = content_disposition_header(download, filename)
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
