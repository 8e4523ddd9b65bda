"""Serving a private file with HTTP Range support, so browsers can seek in a video."""

import re

from django.http import FileResponse, HttpResponse, StreamingHttpResponse

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 256 * 1024


def _read(path, start, length):
    with open(path, "rb") as handle:
        handle.seek(start)
        remaining = length
        while remaining > 0:
            block = handle.read(min(CHUNK, remaining))
            if not block:
                return
            remaining -= len(block)
            yield block


def ranged_file_response(path, range_header, *, download, filename, content_type):
    size = path.stat().st_size
    match = _RANGE.match(range_header.strip()) if range_header else None
    if not match or (match.group(1) == "" and match.group(2) == ""):
        response = FileResponse(open(path, "rb"), as_attachment=download, filename=filename,  # noqa: SIM115
                                content_type=content_type)
    else:
        first, last = match.groups()
        if first == "":  # a suffix: the last N bytes
            start, end = max(size - int(last), 0), size - 1
        else:
            start, end = int(first), min(int(last), size - 1) if last else size - 1
        if start >= size or start > end:
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return response
        response = StreamingHttpResponse(_read(path, start, end - start + 1), status=206, content_type=content_type)
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(end - start + 1)
        disposition = "attachment" if download else "inline"
        response["Content-Disposition"] = f'{disposition}; filename="{filename.replace(chr(34), "")}"'
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
