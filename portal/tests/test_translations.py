"""The Spanish catalogue is complete and its compiled .mo matches the .po (run `make messages`)."""

import ast
import gettext
import re
from pathlib import Path

LOCALE = Path(__file__).resolve().parents[2] / "locale" / "es" / "LC_MESSAGES"


def po_entries():
    """(msgid, msgstr, flags, is_plural, context) for every non-obsolete entry; a plural entry gives its singular."""
    entries = []
    for block in (LOCALE / "django.po").read_text().split("\n\n"):
        if block.lstrip().startswith("#~"):
            continue
        flags = " ".join(line for line in block.splitlines() if line.startswith("#,"))
        fields = {}
        pattern = r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d\])?)( "[^\n]*"\n(?:"[^\n]*"\n)*)'
        for name, body in re.findall(pattern, block + "\n", re.M):
            fields[name] = "".join(ast.literal_eval(part) for part in re.findall(r'"(?:[^"\\]|\\.)*"', body))
        if fields.get("msgid"):
            # A plural entry counts as translated when both its forms are.
            translated = fields.get("msgstr") or (fields.get("msgstr[0]") and fields.get("msgstr[1]") and
                                                  fields["msgstr[0]"])
            entries.append((fields["msgid"], translated or "", flags, "msgid_plural" in fields,
                            fields.get("msgctxt")))
    return entries


def test_every_message_is_translated_and_none_is_fuzzy():
    entries = po_entries()

    assert len(entries) > 100
    assert [msgid for msgid, msgstr, _, _, _ in entries if not msgstr] == []
    assert [msgid for msgid, _, flags, _, _ in entries if "fuzzy" in flags] == []


def test_the_compiled_catalogue_matches_the_source():
    with open(LOCALE / "django.mo", "rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)

    def compiled(msgid, plural, context):
        if context:
            return catalogue.npgettext(context, msgid, msgid, 1) if plural else catalogue.pgettext(context, msgid)
        return catalogue.ngettext(msgid, msgid, 1) if plural else catalogue.gettext(msgid)

    stale = [msgid for msgid, msgstr, _, plural, context in po_entries() if compiled(msgid, plural, context) != msgstr]

    assert stale == [], "run `make messages` to recompile locale/es/LC_MESSAGES/django.mo"
