"""An owner's own data, section by section, for the "Download my data" JSON and CSV files.

`owner_data_sections(user)` is the one source of both formats: it yields each section's name,
column names and rows (lists of JSON-ready values), reading in chunks so a long access log is
never held whole in memory. Everything is filtered by the owner; nothing secret is read out: no
stream address or credentials, no link-token hash, no password, no staff e-mail address.
"""

import csv
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from tempfile import SpooledTemporaryFile

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cameras.models import Camera, SharingRules
from portal.audit import audit_events_with_camera_names
from portal.models import AuditEvent, WaiverSignature
from requests_app.models import FootageRequest, FootageSubmission
from requests_app.retention import State, retention_state

FORMAT_NAME = "community-camera-portal/owner-data"
FORMAT_VERSION = 1
CHUNK_ROWS = 500
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
# Spreadsheets run a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ZIP_SPOOL_BYTES = 8 * 1024 * 1024


# What each section holds, for the "Download my data" page (one CSV file per section, same names in JSON).
SECTION_DESCRIPTIONS = {
    "account": gettext_lazy("Your account: name, e-mail, type, phone, language, notice choice, when you joined."),
    "email_addresses": gettext_lazy("Your e-mail addresses and whether each is verified."),
    "cameras": gettext_lazy("Your cameras: name, location, address, what they cover, access level, stream kind."),
    "sharing_rules": gettext_lazy("Each camera's sharing rules, also in plain words."),
    "schedule_windows": gettext_lazy("The weekly windows of cameras shared on a schedule."),
    "waiver_signatures": gettext_lazy("Each agreement you signed: version, fingerprint of the text, name, time."),
    "footage_requests": gettext_lazy("Footage requests police sent you: incident, time window, message, status."),
    "answers": gettext_lazy("Your answers to those requests."),
    "files_given": gettext_lazy("Files you gave: name, size, SHA-256 fingerprint, status, times, where each stands "
                                "under the retention rules and its deletion date."),
    "access_log": gettext_lazy("Your access log: every police access to your cameras and requests."),
}


@dataclass
class Section:
    name: str
    columns: list
    rows: object  # an iterable of lists, one value per column


def owner_data_sections(user):
    """The owner's data as Sections, in the order the files list them."""
    yield Section("account", ACCOUNT_COLUMNS, [_account_row(user)])
    yield Section("email_addresses", ["email", "verified", "primary"],
                  user.emailaddress_set.order_by("pk").values_list("email", "verified", "primary"))
    cameras = Camera.objects.owned_by(user).select_related("rules", "stream").order_by("pk")
    yield Section("cameras", CAMERA_COLUMNS, (_camera_row(camera) for camera in cameras.iterator(CHUNK_ROWS)))
    rules = SharingRules.objects.filter(camera__owner=user).select_related("camera__owner").order_by("camera_id")
    yield Section("sharing_rules", RULES_COLUMNS, (_rules_row(each) for each in rules.iterator(CHUNK_ROWS)))
    yield Section("schedule_windows", ["camera_id", "camera", "days", "start", "end"],
                  (row for each in rules.iterator(CHUNK_ROWS) for row in _schedule_rows(each)))
    signatures = WaiverSignature.objects.filter(user=user).select_related("waiver").order_by("signed_at", "pk")
    yield Section("waiver_signatures", SIGNATURE_COLUMNS,
                  (_signature_row(each) for each in signatures.iterator(CHUNK_ROWS)))
    requests = (FootageRequest.objects.filter(owner=user).select_related("area_request__incident")
                .order_by("created_at", "pk"))
    yield Section("footage_requests", REQUEST_COLUMNS, (_request_row(each) for each in requests.iterator(CHUNK_ROWS)))
    answered = requests.filter(answered_at__isnull=False)
    yield Section("answers", ["footage_request_id", "answer", "answered_at", "decline_reason"],
                  ([each.pk, each.status, _when(each.answered_at), each.decline_reason]
                   for each in answered.iterator(CHUNK_ROWS)))
    files = FootageSubmission.objects.given_by(user).order_by("created_at", "pk")
    now = timezone.now()
    yield Section("files_given", FILE_COLUMNS, (_file_row(each, now) for each in files.iterator(CHUNK_ROWS)))
    yield Section("access_log", ACCESS_COLUMNS, _access_rows(user))


ACCOUNT_COLUMNS = ["id", "email", "full_name", "account_type", "business_name", "phone", "language",
                   "live_view_notice", "date_joined", "last_login", "is_active"]


def _account_row(user):
    return [user.pk, user.email, user.full_name, user.account_type, user.business_name, user.phone, user.language,
            user.live_view_notice, _when(user.date_joined), _when(user.last_login), user.is_active]


CAMERA_COLUMNS = ["id", "name", "latitude", "longitude", "address", "site_kind", "coverage", "direction_degrees",
                  "access_level", "registered_at", "stream_kind", "stream_last_tested_at", "stream_last_test_ok"]


def _camera_row(camera):
    # The stream source's kind and test result only: its address and credentials never leave the server.
    stream = getattr(camera, "stream", None)  # None when the camera has no stream source
    return [camera.pk, camera.name, camera.latitude, camera.longitude, camera.address, camera.site_kind,
            list(camera.coverage), camera.direction_degrees, camera.access_level, _when(camera.created_at),
            stream.kind if stream else None, _when(stream.last_tested_at) if stream else None,
            stream.last_test_ok if stream else None]


RULES_COLUMNS = ["camera_id", "camera", "live_mode", "incident_radius_m", "incident_minutes", "accept_requests",
                 "paused_until", "notify_on_live_view", "location_precision", "summary", "updated_at"]


def _rules_row(rules):
    return [rules.camera_id, rules.camera.name, rules.live_mode, rules.incident_radius_m, rules.incident_minutes,
            rules.accept_requests, _when(rules.paused_until), rules.notify_on_live_view, rules.location_precision,
            [str(line) for line in rules.summary()], _when(rules.updated_at)]


def _schedule_rows(rules):
    for window in rules.schedule or []:
        days = [WEEKDAYS[day] for day in window.get("days", []) if 0 <= day < len(WEEKDAYS)]
        yield [rules.camera_id, rules.camera.name, days, window.get("start", ""), window.get("end", "")]


SIGNATURE_COLUMNS = ["id", "agreement", "audience", "version", "text_sha256", "typed_name", "signed_at",
                     "ip_address", "user_agent"]


def _signature_row(signature):
    return [signature.pk, signature.waiver.title, signature.waiver.audience, signature.waiver.version,
            signature.text_sha256, signature.typed_name, _when(signature.signed_at), signature.ip_address,
            signature.user_agent]


REQUEST_COLUMNS = ["id", "received_at", "incident_reference", "incident_type", "window_start", "window_end",
                   "message", "cameras", "status", "email_sent_at", "opened_at", "answered_at", "expires_at"]


def _request_row(footage_request):
    area_request = footage_request.area_request
    incident = area_request.incident
    return [footage_request.pk, _when(footage_request.created_at), incident.reference, incident.incident_type,
            _when(area_request.window_start), _when(area_request.window_end), area_request.message,
            list(footage_request.camera_names), footage_request.status, _when(footage_request.email_sent_at),
            _when(footage_request.opened_at), _when(footage_request.answered_at), _when(footage_request.expires_at)]


FILE_COLUMNS = ["id", "footage_request_id", "name", "size", "sha256", "status", "rejection_reason", "uploaded_at",
                "processed_at", "retention", "deletion_date"]


def _file_row(submission, now):
    # Where the file stands under the retention rules, as the dashboard shows it: a legal hold reads
    # "kept for an open case", as its reason is the police's.
    state = retention_state(submission, now)
    return [submission.pk, submission.footage_request_id, submission.original_name, submission.size,
            submission.sha256, submission.status, submission.rejection_reason, _when(submission.created_at),
            _when(submission.processed_at), State.KEPT_OPEN_CASE if state.is_kept else state.code,
            _when(state.deletion_date)]


ACCESS_COLUMNS = ["id", "at", "who", "action", "what", "cameras", "removed_cameras", "incident_reference",
                  "outcome", "reason"]


def _access_rows(user):
    """The owner's access log (the events /access-log/ shows), oldest first, named cameras read per chunk."""
    events = AuditEvent.objects.access_log_for(user).order_by("id")
    chunk = []
    for event in events.iterator(CHUNK_ROWS):
        chunk.append(event)
        if len(chunk) == CHUNK_ROWS:
            yield from _access_chunk(chunk, user)
            chunk = []
    yield from _access_chunk(chunk, user)


def _access_chunk(events, user):
    for event in audit_events_with_camera_names(events, owner=user):
        yield [event.pk, _when(event.created_at), event.actor_label or _("Police system"), event.action,
               str(event.action_label), event.camera_names, event.removed_cameras, event.incident_reference,
               event.outcome, str(event.reason or "")]


def _when(value):
    return value.isoformat() if isinstance(value, datetime | date) else value


# --- The two formats ------------------------------------------------------------------------

def owner_data_json(user, *, chunk_chars=64 * 1024):
    """The export as JSON text, in pieces of about `chunk_chars` characters (for a streamed response)."""
    head = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "exported_at": timezone.now().isoformat(),
            "owner": user.email}
    pieces = [json.dumps(head)[:-1], ', "sections": {']
    size = 0
    for index, section in enumerate(owner_data_sections(user)):
        pieces.append(f'{", " if index else ""}{json.dumps(section.name)}: [')
        for row_index, row in enumerate(section.rows):
            text = json.dumps(dict(zip(section.columns, row, strict=True)), ensure_ascii=False)
            pieces.append(f",\n{text}" if row_index else f"\n{text}")
            size += len(text)
            if size >= chunk_chars:
                yield "".join(pieces)
                pieces, size = [], 0
        pieces.append("]")
    pieces.append("}}\n")
    yield "".join(pieces)


def csv_cell(value):
    """One CSV cell: lists joined with "; ", booleans as true/false, text that a spreadsheet would
    run as a formula prefixed with an apostrophe. Numbers stay numbers (none can be a formula)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    if isinstance(value, list | tuple):
        value = "; ".join(str(item) for item in value)
    value = str(value)
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def owner_data_zip(user):
    """A ZIP of one CSV per section (UTF-8 with a byte-order mark, which spreadsheets read as UTF-8),
    in a temporary file kept in memory up to a few megabytes; returned open at its start."""
    spool = SpooledTemporaryFile(max_size=ZIP_SPOOL_BYTES)  # the response closes it
    with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for section in owner_data_sections(user):
            with archive.open(f"{section.name}.csv", "w") as member:
                text = io.TextIOWrapper(member, encoding="utf-8-sig", newline="")
                writer = csv.writer(text, lineterminator="\r\n")
                writer.writerow(section.columns)
                for row in section.rows:
                    writer.writerow([csv_cell(value) for value in row])
                text.flush()
                text.detach()
    spool.seek(0)
    return spool
