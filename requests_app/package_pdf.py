"""The chain-of-custody report of an evidence package, as a PDF (reportlab), built from its fixed manifest.

The PDF is the same each time a package is downloaded (reportlab's invariant mode: no random document
id, no build time), and its pages are not compressed, so the hashes in it are plain text in the file.
"""

import io
import json

from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle


def _styles():
    sheet = getSampleStyleSheet()
    return {
        "title": sheet["Title"],
        "heading": sheet["Heading2"],
        "body": sheet["BodyText"],
        "small": ParagraphStyle("small", parent=sheet["BodyText"], fontSize=8, leading=10),
        "hash": ParagraphStyle("hash", parent=sheet["BodyText"], fontName="Courier", fontSize=7, leading=9),
    }


def _text(value):
    """Plain text made safe for reportlab's paragraph mark-up."""
    return (str(value if value is not None else "—").replace("&", "&amp;").replace("<", "&lt;")
            .replace(">", "&gt;"))


def _facts_table(rows, styles):
    table = Table([[Paragraph(f"<b>{_text(label)}</b>", styles["small"]), value] for label, value in rows],
                  colWidths=[38 * mm, 136 * mm])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.lightgrey)]))
    return table


def _file_section(entry, styles):
    small, code = styles["small"], styles["hash"]
    video = " · ".join(str(part) for part in (entry.get("container"), entry.get("codec"),
                                              f"{entry.get('width')}×{entry.get('height')}",
                                              f"{entry.get('duration_s')} s") if part)
    cameras = ", ".join(camera["name"] for camera in entry.get("cameras", [])) or "—"
    parts = [Paragraph(_text(entry["name"]), styles["heading"]), _facts_table([
        (_("Original name"), Paragraph(_text(entry["original_name"]), small)),
        ("SHA-256", Paragraph(_text(entry["sha256"]), code)),
        (_("Size"), Paragraph(_("%(bytes)s bytes") % {"bytes": entry["size"]}, small)),
        (_("Video"), Paragraph(_text(video), small)),
        (_("Provided by"), Paragraph(_text(entry["owner"]), small)),
        (_("Cameras"), Paragraph(_text(cameras), small)),
        (_("Request"), Paragraph(_text(_("footage request #%(request)s of area request #%(area)s") % {
            "request": entry["footage_request_id"], "area": entry["area_request_id"]}), small)),
        (_("Uploaded"), Paragraph(_text(entry["uploaded_at"]), small)),
        (_("Accepted"), Paragraph(_text(entry["accepted_at"]), small)),
    ], styles), Spacer(1, 3 * mm)]
    header = [Paragraph(f"<b>{_text(label)}</b>", small) for label in ("#", _("When"), _("Event"), _("Who"),
                                                                       _("Event hash / previous hash"))]
    rows = [header] + [[Paragraph(str(event["id"]), small), Paragraph(_text(event["created_at"]), small),
                        Paragraph(_text(event["action"]), small),
                        Paragraph(_text(event["actor_label"] or _("the portal")), small),
                        Paragraph(f"{_text(event['hash'])}<br/>{_text(event['previous_hash'])}", code)]
                       for event in entry.get("audit_events", [])]
    events = Table(rows, colWidths=[10 * mm, 32 * mm, 30 * mm, 30 * mm, 72 * mm], repeatRows=1)
    events.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("FONTSIZE", (0, 0), (-1, -1), 7),
                                ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.lightgrey)]))
    return [*parts, events, Spacer(1, 6 * mm)]


def custody_report_pdf(package):
    """The PDF bytes of the package's chain-of-custody report."""
    manifest = json.loads(package.manifest)
    styles = _styles()
    incident = manifest["incident"]
    story = [
        Paragraph(_text(_("Chain of custody: evidence package")), styles["title"]),
        _facts_table([
            (_("Package"), Paragraph(_text(manifest["package_id"]), styles["small"])),
            (_("Incident"), Paragraph(_text(f"{incident['reference']} · {incident['type']}"
                                            + (f" · {_('Case')} {incident['case_number']}"
                                               if incident.get("case_number") else "")), styles["small"])),
            (_("Created"), Paragraph(_text(f"{manifest['created_at']} · {manifest['created_by']}"),
                                     styles["small"])),
            (_("Files"), Paragraph(str(len(manifest["files"])), styles["small"])),
            (_("manifest.json SHA-256"), Paragraph(_text(package.manifest_sha256), styles["hash"])),
        ], styles),
        Spacer(1, 4 * mm),
        Paragraph(_text(_("Each file's SHA-256 was computed by the portal when the file arrived and is checked "
                          "again by verify.py. Each event is part of the portal's hash-chained audit log: its "
                          "hash covers its content and the hash of the event before it.")), styles["body"]),
    ]
    for entry in manifest["files"]:
        story += _file_section(entry, styles)
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                                 bottomMargin=16 * mm, title=_("Chain of custody: evidence package"),
                                 author=manifest.get("program", ""), pageCompression=0, invariant=1)
    document.build(story)
    return buffer.getvalue()
