"""The oversight desk: the audit log in plain sentences, its filters, the flags worth a look, the export.

Everything here reads; the only write is the audit event recording an export (audit.exported).
docs/oversight.md states each flag's rule and how to verify an export.
"""

import csv
import json
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import Group
from django.db.models import Prefetch, Q
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from portal import roles
from portal.audit import GENESIS_HASH
from portal.models import AuditEvent, User

# --- Sentences ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionText:
    """How one action reads: a short title (the filter's list) and the sentence, with or without an incident."""

    title: str
    text: str
    no_incident: str = ""
    # Who acted when the event names nobody (a system, not a person).
    system_actor: str = ""



ACTIONS = {
    "camera.registered": ActionText(_("Camera registered"), _("%(actor)s registered the camera %(camera)s.")),
    "camera.changed": ActionText(_("Camera changed"), _("%(actor)s changed the details of the camera %(camera)s.")),
    "camera.deleted": ActionText(_("Camera removed"), _("%(actor)s removed the camera %(camera)s from the program.")),
    "rules.changed": ActionText(_("Sharing rules changed"),
                                _("%(actor)s changed the sharing rules of %(camera)s: %(changed)s.")),
    "sharing.paused": ActionText(_("Sharing paused"), _("%(actor)s paused sharing of %(camera)s until %(until)s.")),
    "sharing.resumed": ActionText(_("Sharing resumed"), _("%(actor)s resumed sharing of %(camera)s.")),
    "stream.changed": ActionText(_("Live stream source set"),
                                 _("%(actor)s set the live stream source of %(camera)s (%(kind)s).")),
    "stream.tested": ActionText(_("Live stream tested"),
                                _("%(actor)s tested the live stream of %(camera)s: %(result)s.")),
    "stream.onvif_discovered": ActionText(_("Stream looked up with ONVIF"),
                                          _("%(actor)s looked up the stream of %(camera)s with ONVIF: %(found)s.")),
    "live.access": ActionText(
        _("Live view decision"),
        _("%(actor)s asked to watch %(camera)s live for incident %(incident)s: %(decision)s."),
        _("%(actor)s asked to watch %(camera)s live, with no incident: %(decision)s.")),
    "live.started": ActionText(
        _("Live viewing started"),
        _("%(actor)s watched %(camera)s live for incident %(incident)s: %(decision)s."),
        _("%(actor)s watched %(camera)s live with no incident: %(decision)s.")),
    "live.ended": ActionText(_("Live viewing ended"),
                             _("%(actor)s stopped watching %(camera)s live after %(duration)s: %(reason)s")),
    "live.wall": ActionText(
        _("Live video wall opened"),
        _("%(actor)s opened the live video wall of incident %(incident)s (cameras shown: %(shown)s; refused by "
          "their owners' rules: %(refused)s).")),
    "live.gateway": ActionText(
        _("Media gateway check"),
        _("The media gateway asked to %(gateway_action)s %(camera)s for %(actor)s, incident %(incident)s: "
          "%(decision)s."),
        _("The media gateway asked to %(gateway_action)s %(camera)s for %(actor)s: %(decision)s."),
        system_actor=_("an unknown viewer")),
    "camera.search": ActionText(
        _("Camera search"),
        _("%(actor)s searched for cameras within %(radius)s m of a point for incident %(incident)s and found "
          "%(found)s."),
        _("%(actor)s searched for cameras within %(radius)s m of a point, with no incident, and found %(found)s.")),
    "camera.map": ActionText(_("RTCC map opened"), _("%(actor)s opened the RTCC map of %(count)s cameras.")),
    "area_request.created": ActionText(
        _("Area request created"),
        _("%(actor)s asked for footage within %(radius)s m for incident %(incident)s: %(limits)s.")),
    "area_request.approved": ActionText(
        _("Area request approved"),
        _("%(actor)s approved an area request beyond the city's limits for incident %(incident)s.")),
    "area_request.rejected": ActionText(
        _("Area request rejected"),
        _("%(actor)s rejected an area request beyond the city's limits for incident %(incident)s.")),
    "request.sent": ActionText(_("Footage request"),
                               _("%(actor)s asked the owner of %(camera)s for footage for incident %(incident)s.")),
    "request.opened": ActionText(_("Footage request opened"),
                                 _("%(actor)s opened the footage request about %(camera)s for incident "
                                   "%(incident)s.")),
    "request.approved": ActionText(_("Footage request accepted"),
                                   _("%(actor)s agreed to share footage of %(camera)s for incident %(incident)s.")),
    "request.declined": ActionText(_("Footage request declined"),
                                   _("%(actor)s declined to share footage of %(camera)s for incident "
                                     "%(incident)s.")),
    "footage.uploaded": ActionText(_("Footage uploaded"),
                                   _("%(actor)s uploaded %(name)s (%(size)s) of %(camera)s for incident "
                                     "%(incident)s.")),
    "footage.accepted": ActionText(_("Footage accepted"),
                                   _("%(actor)s checked the footage of %(camera)s for incident %(incident)s and "
                                     "accepted it as video."), system_actor=_("The portal")),
    "footage.rejected": ActionText(_("Footage rejected"),
                                   _("%(actor)s rejected the footage of %(camera)s for incident %(incident)s: "
                                     "%(reason)s."), system_actor=_("The portal")),
    "footage.viewed": ActionText(_("Footage viewed"),
                                 _("%(actor)s played footage of %(camera)s for incident %(incident)s.")),
    "footage.downloaded": ActionText(_("Footage downloaded"),
                                     _("%(actor)s downloaded footage of %(camera)s for incident %(incident)s.")),
    "footage.custody_report": ActionText(
        _("Chain-of-custody report opened"),
        _("%(actor)s opened the chain-of-custody report of footage of %(camera)s for incident %(incident)s.")),
    "footage.purged": ActionText(_("Footage deleted by retention"),
                                 _("%(actor)s deleted footage of %(camera)s under the evidence retention rule."),
                                 system_actor=_("The portal")),
    "evidence.package_created": ActionText(
        _("Evidence package created"),
        _("%(actor)s put together an evidence package of incident %(incident)s (files: %(files)s).")),
    "evidence.package_downloaded": ActionText(
        _("Evidence package downloaded"),
        _("%(actor)s downloaded an evidence package with footage of %(camera)s for incident %(incident)s.")),
    "evidence.package_shared_download": ActionText(
        _("Evidence package downloaded by the prosecutor's link"),
        _("The link given to %(recipient)s downloaded an evidence package with footage of %(camera)s for incident "
          "%(incident)s.")),
    "evidence.package_link_created": ActionText(
        _("Evidence package link created"),
        _("%(actor)s gave %(recipient)s a link to an evidence package of incident %(incident)s, until %(until)s.")),
    "evidence.package_link_revoked": ActionText(
        _("Evidence package link revoked"),
        _("%(actor)s revoked the link of %(recipient)s to an evidence package of incident %(incident)s.")),
    "location.revealed": ActionText(_("Exact location shown"),
                                    _("%(actor)s saw the exact location of %(camera)s.")),
    "incident.created": ActionText(_("Incident opened"),
                                   _("%(actor)s opened incident %(incident)s (%(type)s, from %(source)s)."),
                                   system_actor=_("A dispatch or alarm system")),
    "incident.changed": ActionText(_("Incident updated"), _("%(actor)s updated incident %(incident)s."),
                                   system_actor=_("A dispatch or alarm system")),
    "integration_key.created": ActionText(_("API key created"),
                                          _("%(actor)s created the API key “%(name)s” (%(kind)s).")),
    "integration_key.revoked": ActionText(_("API key revoked"), _("%(actor)s revoked the API key “%(name)s”.")),
    "waiver.published": ActionText(_("Agreement published"),
                                   _("%(actor)s published version %(version)s of the program agreement for "
                                     "%(audience)s.")),
    "waiver.signed": ActionText(_("Agreement signed"),
                                _("%(actor)s signed version %(version)s of the program agreement.")),
    "account.closed": ActionText(_("Account closed"), _("%(actor)s closed their account and left the program.")),
    "footage.hold_placed": ActionText(_("Legal hold placed"),
                                      _("%(actor)s placed a legal hold on a file of incident %(incident)s, so it is "
                                        "kept whatever the retention rules say: %(reason)s.")),
    "footage.hold_lifted": ActionText(_("Legal hold lifted"),
                                      _("%(actor)s lifted the legal hold on a file of incident %(incident)s: "
                                        "%(reason)s.")),
    "account.data_exported": ActionText(_("Owner's data downloaded"),
                                        _("%(actor)s downloaded a copy of their own data (%(format)s).")),
    "notices.changed": ActionText(_("Live-view notices changed"),
                                  _("%(actor)s chose how to hear of live views of their cameras: %(notice)s.")),
    "audit.exported": ActionText(_("Audit log exported"),
                                 _("%(actor)s exported %(rows)s audit events as CSV.")),
}
FALLBACK_TEXT = _("%(actor)s: “%(action)s” (%(outcome)s) on %(target)s.")
FALLBACK_NO_TARGET = _("%(actor)s: “%(action)s” (%(outcome)s).")
SYSTEM_ACTOR = _("The portal")

# A live decision's code as the end of a sentence ("...: allowed by the owner's schedule rule").
DECISIONS = {
    "always": _("allowed by the owner's rule to share live at any time"),
    "schedule": _("allowed by the owner's schedule rule"),
    "incident_nearby": _("allowed by the owner's rule for alarms and 911 events nearby"),
    "session": _("allowed for an active live session"),
    "publisher": _("allowed: the camera's publisher gave the right secret"),
    "not_signed_in": _("refused, as the viewer was not signed in"),
    "no_permission": _("refused, as their role does not include live viewing"),
    "not_integrated": _("refused, as the camera is registered for footage requests only"),
    "owner_unverified": _("refused, as the owner's account is not active and verified"),
    "waiver_not_current": _("refused, as the owner has not signed the current program agreement"),
    "paused": _("refused, as the owner had paused sharing"),
    "live_never": _("refused, as the owner does not allow live viewing"),
    "outside_schedule": _("refused, as it was outside the owner's schedule"),
    "no_qualifying_incident": _("refused, as no alarm or 911 event was active near the camera"),
    "incident_out_of_range": _("refused, as the active event was farther away than the owner allows"),
    "unknown_rule": _("refused, as the camera's rules were not understood"),
    "no_session": _("refused, as there was no active live session"),
    "unknown_path": _("refused, as the path is not a camera"),
    "bad_publish_secret": _("refused: wrong publisher secret"),
    "action_not_allowed": _("refused, as the gateway action is not allowed"),
}
DECISION_ALLOWED = _("allowed (%(code)s)")
DECISION_REFUSED = _("refused (%(code)s)")
DECISION_RECORDED = _("recorded")

ROLE_TITLES = {
    roles.OPERATOR: _("RTCC operator"),
    roles.OFFICER: _("Officer"),
    roles.SUPERVISOR: _("Supervisor"),
    roles.OVERSIGHT: _("Oversight member"),
}


class _Blank(dict):
    """Formatting values: a placeholder the event cannot fill reads as a dash, never an error."""

    def __missing__(self, key):
        return "—"


def _lower_first(text):
    text = str(text)
    return text[:1].lower() + text[1:]


def decision_phrase(event):
    code = event.details.get("code", "")
    if code in DECISIONS:
        return str(DECISIONS[code])
    if event.outcome == AuditEvent.Outcome.ALLOWED:
        return DECISION_ALLOWED % {"code": code or "—"}
    if event.outcome == AuditEvent.Outcome.DENIED:
        return DECISION_REFUSED % {"code": code or "—"}
    return str(DECISION_RECORDED)


def actor_title(event, text=None):
    """Who acted, as the sentence names them: "Officer Ana Ruiz (#1001)", an owner's name, or a system."""
    if not event.actor_label:
        return str((text.system_actor if text and text.system_actor else "") or SYSTEM_ACTOR)
    role = _role_of(getattr(event, "actor", None) if event.actor_id else None)
    if role:
        return _("%(role)s %(name)s") % {"role": role, "name": event.actor_label}
    return event.actor_label


def _role_of(actor):
    if actor is None or not actor.is_staff:
        return ""
    names = {group.name for group in actor.groups.all()}
    return next((str(ROLE_TITLES[name]) for name in roles.ROLE_NAMES if name in names), "")


def camera_title(event, camera_names):
    """The camera(s) an event concerns: “Front door”, "camera #12 (since removed)" or "3 cameras"."""
    ids = event.camera_ids
    if not ids:
        return _("no camera")
    if len(ids) > 1:
        return ngettext("%(count)s camera", "%(count)s cameras", len(ids)) % {"count": len(ids)}
    name = camera_names.get(ids[0])
    if name is None:
        return _("camera #%(id)s (since removed)") % {"id": ids[0]}
    return f"“{name}”"


def _values(event, camera_names, text):
    details = event.details or {}
    from cameras.live import end_reason
    from incidents.models import Incident
    from portal.models import Audience
    from portal.transparency_views import duration_label

    values = _Blank(
        actor=actor_title(event, text), camera=camera_title(event, camera_names),
        incident=event.incident_reference or "—", decision=decision_phrase(event), action=event.action,
        outcome=event.get_outcome_display(), target=event.target,
    )
    if "changed" in details:
        values["changed"] = ", ".join(sorted(details["changed"])) or _("nothing")
    if "paused_until" in details:
        values["until"] = _local(details["paused_until"]) if details["paused_until"] else "—"
    if "kind" in details:
        values["kind"] = details["kind"]
    if "ok" in details:
        values["result"] = _("the camera answered") if details["ok"] else _("the camera did not answer")
    if "seconds" in details:
        values["duration"] = duration_label(details["seconds"])
    if event.action == "live.ended":
        values["reason"] = _lower_first(end_reason(details.get("code", ""))) if details.get("code") else "—"
    elif "reason" in details:
        values["reason"] = _lower_first(details["reason"]).rstrip(".")
    if "recipient" in details:
        values["recipient"] = details["recipient"]
    if "expires_at" in details:
        values["until"] = _local(details["expires_at"])
    if isinstance(details.get("submissions"), list):
        values["files"] = len(details["submissions"])
    if "allowed" in details and isinstance(details["allowed"], list):
        values["shown"], values["refused"] = len(details["allowed"]), len(details.get("refused") or {})
    if "action" in details:
        values["gateway_action"] = {"read": _("read"), "publish": _("publish to")}.get(details["action"],
                                                                                     details["action"])
    if "radius_m" in details:
        values["radius"] = round(float(details["radius_m"]))
    if event.action == "stream.onvif_discovered":
        values["found"] = (ngettext("%(count)s stream found", "%(count)s streams found", details.get("profiles", 0))
                           % {"count": details.get("profiles", 0)} if details.get("ok")
                           else _("the camera did not answer as expected"))
    elif "found" in details:
        values["found"] = ngettext("%(count)s camera", "%(count)s cameras", details["found"]) % {
            "count": details["found"]}
    if "cameras" in details:
        values["count"] = details["cameras"]
    if event.action == "area_request.created":
        values["limits"] = _limits_phrase(details)
    if "name" in details:
        values["name"] = details["name"]
    if "size" in details:
        values["size"] = filesizeformat(details["size"])
    if "type" in details:
        values["type"] = _choice_label(Incident.Type, details["type"])
    if "source" in details:
        values["source"] = _choice_label(Incident.Source, details["source"])
    if "version" in details:
        values["version"] = details["version"]
    if "audience" in details:
        values["audience"] = _choice_label(Audience, details["audience"])
    if "rows" in details:
        values["rows"] = details["rows"]
    if "format" in details:
        values["format"] = str(details["format"]).upper()
    if event.action == "notices.changed":
        values["notice"] = _lower_first(_choice_label(User.LiveViewNotice, details.get("live_view_notice", "")))
    return values


def _limits_phrase(details):
    if not details.get("over_limits"):
        return _("within the city's limits, sent at once")
    if details.get("status") == "awaiting_approval":
        return _("beyond the city's limits, so it waited for a supervisor's approval")
    return _("beyond the city's limits, sent at once by a supervisor")


def _choice_label(choices, value):
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def _local(iso_value):
    try:
        moment = datetime.fromisoformat(iso_value)
    except (TypeError, ValueError):
        return str(iso_value)
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def describe(event, camera_names=None):
    """One plain sentence explaining the event, built from its action and details.

    `camera_names` maps camera ids to names (cameras still registered); see `with_sentences`.
    Unknown actions fall back to naming the action, its outcome and target.
    """
    text = ACTIONS.get(event.action)
    values = _values(event, camera_names or {}, text)
    if text is None:
        return str(FALLBACK_TEXT if event.target else FALLBACK_NO_TARGET) % values
    template = text.no_incident if (text.no_incident and not event.incident_reference) else text.text
    return str(template) % values


def with_sentences(events):
    """`events` as a list, each with `.sentence`, in three queries whatever their number."""
    from cameras.models import Camera

    events = list(events)
    wanted = {pk for event in events for pk in event.camera_ids}
    names = dict(Camera.objects.filter(pk__in=wanted).values_list("pk", "name")) if wanted else {}
    for event in events:
        event.sentence = describe(event, names)
    return events


def events_for_reading(queryset):
    """The queryset with what sentences need: actors with their roles."""
    return queryset.select_related("actor").prefetch_related(
        Prefetch("actor__groups", queryset=Group.objects.only("name")))


def action_choices():
    """Every action the sentences know and any other the log holds, by title."""
    known = [(action, f"{text.title} ({action})") for action, text in ACTIONS.items()]
    others = [(action, action) for action in AuditEvent.objects.actions_recorded() if action not in ACTIONS]
    return sorted(known + others, key=lambda choice: str(choice[1]).casefold())


# --- Filters --------------------------------------------------------------------------------

OUTCOME_FILTERS = {
    "allowed": AuditEvent.Outcome.ALLOWED,
    "refused": AuditEvent.Outcome.DENIED,
    "recorded": AuditEvent.Outcome.DONE,
}


def _day_start(day):
    return timezone.make_aware(datetime.combine(day, time.min), ZoneInfo(settings.TIME_ZONE))


def filter_events(queryset, filters):
    """`queryset` narrowed by the browser's cleaned filters (see OversightFilterForm)."""
    if filters.get("staff"):
        queryset = queryset.by_actor(filters["staff"].pk)
    if filters.get("incident"):
        queryset = queryset.for_incident(filters["incident"])
    if filters.get("camera"):
        queryset = queryset.for_cameras(camera_ids_matching(filters["camera"]))
    if filters.get("owner"):
        queryset = queryset.for_camera_owners(owner_ids_matching(filters["owner"]))
    if filters.get("action"):
        queryset = queryset.with_action(filters["action"])
    if filters.get("outcome"):
        queryset = queryset.with_outcome(OUTCOME_FILTERS[filters["outcome"]])
    start = _day_start(filters["date_from"]) if filters.get("date_from") else None
    end = _day_start(filters["date_to"] + timedelta(days=1)) if filters.get("date_to") else None
    return queryset.created_between(start, end)


def camera_ids_matching(text):
    """A camera number, or the ids of registered cameras whose name contains `text`."""
    from cameras.models import Camera

    text = text.strip().lstrip("#")
    if text.isdigit():
        return [int(text)]
    return list(Camera.objects.filter(name__icontains=text).values_list("pk", flat=True))


def owner_ids_matching(text):
    text = text.strip()
    return list(User.objects.owners().filter(
        Q(email__iexact=text) | Q(full_name__icontains=text) | Q(business_name__icontains=text))
        .values_list("pk", flat=True))


def filters_summary(filters):
    """The filters in force, as `name=value` strings (for the export's header and its audit event)."""
    summary = {}
    for name, value in filters.items():
        if value in (None, ""):
            continue
        summary[name] = str(value.pk) if isinstance(value, User) else str(value)
    return summary


# --- Flags ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Flag:
    slug: str
    title: str
    rule_text: str
    method: str

    def events(self, queryset=None):
        queryset = AuditEvent.objects.all() if queryset is None else queryset
        if self.method == "refusal_bursts":
            return queryset.refusal_bursts(settings.OVERSIGHT_REFUSALS_THRESHOLD)
        return getattr(queryset, self.method)()

    @property
    def rule(self):
        return str(self.rule_text) % {
            "radius": settings.AREA_REQUEST_MAX_RADIUS_M, "hours": settings.AREA_REQUEST_MAX_WINDOW_HOURS,
            "threshold": settings.OVERSIGHT_REFUSALS_THRESHOLD, "zone": settings.TIME_ZONE,
        }


FLAGS = [
    Flag("live-without-incident", _("Live views with no open incident"),
         _("Live viewing that started with no incident, or for an incident (opened by staff, or by a CAD / 911 "
           "or alarm event) that was not open at that moment."),
         "live_views_without_open_incident"),
    Flag("over-limits", _("Requests beyond the city's limits"),
         _("Area requests with a radius over %(radius)s m or a time window over %(hours)s hours: a supervisor "
           "had to approve them, or sent them."),
         "area_requests_over_limits"),
    Flag("unassigned-downloads", _("Footage downloads by staff not on the incident"),
         _("Footage downloaded by a staff member who neither opened the incident nor is among its assigned "
           "officers (as the incident stands today)."),
         "footage_downloads_by_unassigned_staff"),
    Flag("outside-shift", _("Access outside shift hours"),
         _("Camera searches, area requests, live views and footage views or downloads by a staff member outside "
           "the shift hours set on their account (city time, %(zone)s). Staff without shift hours are never "
           "flagged."),
         "outside_shift_hours"),
    Flag("refusals", _("Many refusals by one person"),
         _("More than %(threshold)s refused decisions by one person within 24 hours. Each row is a refusal "
           "beyond that number, with how many refusals that person had in the 24 hours up to it."),
         "refusal_bursts"),
]
FLAGS_BY_SLUG = {flag.slug: flag for flag in FLAGS}


# --- Export ---------------------------------------------------------------------------------

EXPORT_COLUMNS = ["id", "created_at", "actor", "actor_label", "action", "outcome", "target", "camera",
                  "camera_owner", "incident_reference", "ip_address", "details", "previous_hash", "hash",
                  "sentence"]


def chain_head():
    """The newest event of the chain (None while the log is empty)."""
    return AuditEvent.objects.in_chain_order().only("id", "hash").last()


def _cell(value):
    return "" if value is None else value


def export_row(event, camera_names):
    """One event as the export writes it: the hashed fields exactly as `AuditEvent.content()` gives them."""
    content = event.content()
    return [event.pk, content["created_at"], _cell(content["actor"]), content["actor_label"], content["action"],
            content["outcome"], content["target"], _cell(content["camera"]), _cell(content["camera_owner"]),
            content["incident_reference"], _cell(content["ip_address"]),
            json.dumps(content["details"], sort_keys=True, separators=(",", ":"), default=str),
            event.previous_hash, event.hash, describe(event, camera_names)]


def _one_line(text):
    return " ".join(str(text).split())


def export_header(*, head, rows, filters, exported_at):
    """The export's opening comment lines: what it holds and what to check it against."""
    summary = "; ".join(f"{name}={_one_line(value)}" for name, value in sorted(filters.items())) or "none"
    return [
        "# Community Camera Portal audit log export",
        f"# exported_at: {exported_at.isoformat()}",
        f"# scope: {'filtered' if filters else 'complete'}",
        f"# filters: {summary}",
        f"# rows: {rows}",
        f"# chain_head_id: {head.pk if head else 0}",
        f"# chain_head_hash: {head.hash if head else GENESIS_HASH}",
        f"# genesis_hash: {GENESIS_HASH}",
        "# verify: python3 tools/verify_audit_export.py <this file>",
    ]


class _Echo:
    def write(self, value):
        return value


def export_lines(queryset, *, head, filters, exported_at, chunk_size=500):
    """The export's CSV, line by line: comment lines, the header row, then one row per event in chain order."""
    from cameras.models import Camera

    writer = csv.writer(_Echo(), lineterminator="\n")
    rows = queryset.count()
    for line in export_header(head=head, rows=rows, filters=filters, exported_at=exported_at):
        yield f"{line}\n"
    yield writer.writerow(EXPORT_COLUMNS)
    last_id = 0
    while True:
        chunk = list(events_for_reading(queryset.filter(id__gt=last_id).in_chain_order())[:chunk_size])
        if not chunk:
            return
        wanted = {pk for event in chunk for pk in event.camera_ids}
        names = dict(Camera.objects.filter(pk__in=wanted).values_list("pk", "name")) if wanted else {}
        for event in chunk:
            yield writer.writerow(export_row(event, names))
        last_id = chunk[-1].pk
