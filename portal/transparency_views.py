"""The public transparency page (/transparency/): the report's figures as charts with tables, and a coarse map."""

from dataclasses import dataclass, field
from datetime import datetime

from django.shortcuts import render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_safe

from incidents.models import Incident
from portal.transparency import (
    LIVE_RULE_LABELS,
    RADIUS_BANDS,
    UNKNOWN_BAND,
    WINDOW_BANDS,
    next_refresh,
    report_generated_at,
    transparency_report,
)


@dataclass
class Column:
    label: str
    charted: bool = True  # drawn in the chart, or only in its table (totals, minutes...)


@dataclass
class Chart:
    """One figure of the page: a chart drawn from its table, which screen readers and no-script readers get."""

    slug: str
    title: str
    intro: str
    columns: list
    rows: list = field(default_factory=list)  # (month label, [(value, shown)]), oldest month first
    total: list = field(default_factory=list)
    kind: str = "bar"
    stacked: bool = True


def _cell(value, shown=None):
    if shown is None:
        shown = formats.number_format(value, force_grouping=True)  # 1,234 in English, 1.234 in Spanish
    return (value if value is not None else "", shown)


def _minutes(value):
    return _cell(value, formats.number_format(value, decimal_pos=1, force_grouping=True))


def duration_label(seconds):
    """A wait in words: "under a minute", "45 min", "3 h 20 min", "2 d 4 h"; "—" when there was no answer."""
    if seconds is None:
        return "—"
    minutes = round(seconds / 60)
    if minutes < 1:
        return _("under a minute")
    if minutes < 60:
        return _("%(minutes)s min") % {"minutes": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return _("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": minutes}
    days, hours = divmod(hours, 24)
    return _("%(days)s d %(hours)s h") % {"days": days, "hours": hours}


def month_label(key):
    year, month = (int(part) for part in key.split("-"))
    return formats.date_format(datetime(year, month, 1), "M Y")


def _rows(report, values):
    """(month label, cells) per month, and the totals' cells, with `values(month)` giving a month's cells."""
    rows = [(month_label(month["month"]), values(month)) for month in report["monthly"]]
    return rows, values(report["totals"])


def _count_chart(report, slug, title, intro, part, keys_and_labels):
    """Area requests split by one of their parts (type, radius, window): a stacked bar per month."""
    shown = [(key, label) for key, label in keys_and_labels
             if key != UNKNOWN_BAND or report["totals"]["area_requests"][part][UNKNOWN_BAND]]
    columns = [Column(str(label)) for _key, label in shown] + [Column(_("All area requests"), charted=False)]

    def values(month):
        figures = month["area_requests"]
        return [_cell(figures[part][key]) for key, _label in shown] + [_cell(figures["total"])]

    rows, total = _rows(report, values)
    return Chart(slug, title, intro, columns, rows, total)


def _types_shown(report):
    """Incident types with at least one area request in the period (all of them would crowd the chart)."""
    used = report["totals"]["area_requests"]["by_incident_type"]
    labels = dict(Incident.Type.choices) | {UNKNOWN_BAND: _("Unknown")}
    keys = [key for key, count in used.items() if count] or [Incident.Type.BURGLARY]
    return [(key, labels.get(key, key)) for key in keys]


def report_charts(report):
    """The page's figures, in reading order."""
    unknown = (UNKNOWN_BAND, _("Unknown"))
    charts = [
        _count_chart(report, "requests-by-type", _("Area requests sent, by incident type"),
                     _("An area request asks every owner with cameras inside a circle for footage of one time "
                       "window. Counted in the month it was sent to owners."),
                     "by_incident_type", _types_shown(report)),
        _count_chart(report, "requests-by-radius", _("Area requests sent, by radius of the circle"),
                     _("How large the circles were."),
                     "by_radius", [(band.key, band.label) for band in RADIUS_BANDS] + [unknown]),
        _count_chart(report, "requests-by-window", _("Area requests sent, by length of the time window"),
                     _("How long a stretch of recordings police asked for."),
                     "by_window", [(band.key, band.label) for band in WINDOW_BANDS] + [unknown]),
    ]
    rows, total = _rows(report, lambda month: [
        _cell(month["approved"]), _cell(month["declined"]), _cell(month["no_answer"]), _cell(month["owners_asked"]),
        _cell(month["median_seconds_to_first_answer"], duration_label(month["median_seconds_to_first_answer"]))])
    charts.append(Chart("owners-answers", _("Owners asked, and how they answered"),
                        _("Each owner with cameras in a circle gets one request, by e-mail. Counted in the month "
                          "they were asked; “no answer” includes requests still open."),
                        [Column(_("Approved")), Column(_("Declined")), Column(_("No answer")),
                         Column(_("Owners asked"), charted=False),
                         Column(_("Median time to answer"), charted=False)], rows, total))
    rows, total = _rows(report, lambda month: [
        _cell(month["median_seconds_to_first_answer"] and round(month["median_seconds_to_first_answer"] / 3600, 1),
              duration_label(month["median_seconds_to_first_answer"]))])
    charts.append(Chart("answer-time", _("Median time from request to the owner's answer"),
                        _("Half of the owners who answered did so faster than this (chart in hours)."),
                        [Column(_("Median time to answer"))], rows, total, kind="line", stacked=False))
    rows, total = _rows(report, lambda month: [
        _cell(month["needed_supervisor_approval"]), _cell(month["rejected_by_supervisor"])])
    charts.append(Chart("over-limits", _("Requests above the city's limits"),
                        _("A request with a larger radius or a longer window than the city allows goes to a "
                          "supervisor, who approves or rejects it."),
                        [Column(_("Needed a supervisor's approval")), Column(_("Rejected by a supervisor"))],
                        rows, total, stacked=False))
    rules = list(LIVE_RULE_LABELS)
    rows, total = _rows(report, lambda month: [
        *(_cell(month["live_sessions"]["by_rule"][rule]["sessions"]) for rule in rules),
        _cell(month["live_sessions"]["total"]), _minutes(month["live_sessions"]["minutes"])])
    charts.append(Chart("live-sessions", _("Live-view sessions, by the owner's rule that allowed them"),
                        _("Only businesses that integrated a camera allow live viewing, under a rule they chose."),
                        [*(Column(str(LIVE_RULE_LABELS[rule])) for rule in rules),
                         Column(_("All sessions"), charted=False), Column(_("Minutes watched"), charted=False)],
                        rows, total))
    rows, total = _rows(report, lambda month: [_cell(month["footage_received"]), _cell(month["cad_events"])])
    charts.append(Chart("footage-and-cad", _("Footage received and dispatch events"),
                        _("Video files owners gave (checked and kept as evidence), and incidents opened by 911 "
                          "dispatch (CAD) or alarm systems."),
                        [Column(_("Footage files received")), Column(_("CAD and alarm events"))], rows, total,
                        stacked=False))
    return charts


@require_safe
def transparency(request):
    """Public: anyone, signed in or not."""
    report = transparency_report()
    grid = report["map"]
    context = {
        "report": report, "charts": report_charts(report),
        "generated_at": timezone.localtime(report_generated_at(report)),
        "next_refresh": timezone.localtime(next_refresh(report)),
        "current_month": month_label(report["months"][-1]),
        "first_month": month_label(report["months"][0]),
        "cells": [{"south": c["south"], "west": c["west"], "north": c["north"], "east": c["east"],
                   "cameras": c["cameras"]} for c in grid["cells"]],
        "map_summary": ngettext(
            "%(count)s area of about %(size)s m with at least %(min)s cameras is shown.",
            "%(count)s areas of about %(size)s m with at least %(min)s cameras each are shown.",
            len(grid["cells"])) % {"count": len(grid["cells"]), "size": grid["cell_size_m"],
                                   "min": grid["min_cameras"]},
        "data_urls": {name: reverse(f"api-transparency-{name}") for name in ("report", "monthly", "map", "summary")},
    }
    return render(request, "portal/transparency/report.html", context)
