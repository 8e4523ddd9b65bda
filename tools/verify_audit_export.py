#!/usr/bin/env python3
"""Verify an audit log export of Community Camera Portal, with nothing but Python's standard library.

Usage:  python3 tools/verify_audit_export.py audit-export.csv

The export (/oversight/export.csv) carries, for every audit event, the fields its hash covers, the
hash of the event before it in the chain ("previous_hash") and its own hash. Each event's hash is

    sha256("<previous_hash>|<canonical JSON>")

where the canonical JSON is the object {created_at, actor, actor_label, action, outcome, target,
camera, camera_owner, incident_reference, ip_address, details} with sorted keys, no spaces, and
`null` for an empty actor, camera, camera_owner or ip_address cell.

What is checked:
  * every row: its hash recomputes from its own fields and its stored previous hash;
  * a complete (unfiltered) export, in addition: the first row follows the genesis hash, each row's
    previous hash is the hash of the row before it (so no row was removed, added or reordered), and
    the last row is the chain head the portal named when it made the file;
  * a filtered slice: rows are verified one by one (the rows between them are not in the file, so
    the links cannot be followed); the report says so.
  * both: the number of rows is the one the header announces.

Exit code 0 when everything holds; 1 otherwise, with a message naming the first bad row (or saying
why the file cannot be read).
"""

import csv
import hashlib
import io
import json
import sys

GENESIS_HASH = "0" * 64
HASHED_TEXT = ["created_at", "actor_label", "action", "outcome", "target", "incident_reference"]
HASHED_NUMBERS = ["actor", "camera", "camera_owner"]
REQUIRED = ["id", *HASHED_TEXT, *HASHED_NUMBERS, "ip_address", "details", "previous_hash", "hash"]


class BadExport(Exception):
    pass


def read_export(path):
    """(header, rows): the `# key: value` comment lines as a dict, and the rows as (line number, dict)."""
    header = {}
    with open(path, encoding="utf-8-sig", newline="") as handle:
        text = handle.read()
    comment_lines = 0
    while text.startswith("#"):
        line, _, text = text.partition("\n")
        key, _, value = line[1:].partition(":")
        if value:
            header[key.strip()] = value.strip()
        comment_lines += 1
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [name for name in REQUIRED if name not in (reader.fieldnames or [])]
    if missing:
        raise BadExport(f"the file has no column {', '.join(missing)}: is it an audit export?")
    return header, [(comment_lines + reader.line_num, row) for row in reader]


def _number(value, name):
    if value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise BadExport(f"{name} is {value!r}, not a number") from None


def canonical(row):
    """The JSON the portal hashed for this row."""
    try:
        details = json.loads(row["details"])
    except json.JSONDecodeError as error:
        raise BadExport(f"its details are not valid JSON ({error})") from None
    content = {name: row[name] for name in HASHED_TEXT}
    content.update({name: _number(row[name], name) for name in HASHED_NUMBERS})
    content["ip_address"] = row["ip_address"] or None
    content["details"] = details
    return json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)


def row_hash(row):
    return hashlib.sha256(f"{row['previous_hash']}|{canonical(row)}".encode()).hexdigest()


def verify(path):
    """(ok, message)."""
    header, rows = read_export(path)
    complete = header.get("scope") == "complete"
    expected_rows = header.get("rows")
    previous = None
    for number, (line, row) in enumerate(rows, start=1):
        name = f"row {number} (line {line}, event #{row['id']})"
        try:
            recomputed = row_hash(row)
        except BadExport as error:
            return False, f"FAILED at {name}: {error}."
        if recomputed != row["hash"]:
            return False, (f"FAILED at {name}: its fields do not give its stored hash (the row was altered; "
                           f"expected {row['hash'][:16]}…, recomputed {recomputed[:16]}…).")
        if complete:
            link = previous["hash"] if previous else header.get("genesis_hash", GENESIS_HASH)
            if row["previous_hash"] != link:
                before = f"event #{previous['id']}" if previous else "the start of the chain"
                return False, (f"FAILED at {name}: it does not follow {before} (a row before it was removed, "
                               f"added or moved).")
        elif previous is not None and _number(row["id"], "id") <= _number(previous["id"], "id"):
            return False, f"FAILED at {name}: rows are not in chain order."
        previous = row
    if expected_rows is not None and str(len(rows)) != expected_rows:
        return False, f"FAILED: the header announces {expected_rows} rows and the file has {len(rows)}."
    if complete:
        head = header.get("chain_head_hash", "")
        last = previous["hash"] if previous else header.get("genesis_hash", GENESIS_HASH)
        if head and last != head:
            return False, ("FAILED: the last row is not the chain head the portal named "
                           f"({head[:16]}…): rows at the end were removed.")
        return True, (f"OK: complete export, {len(rows)} rows; every hash recomputes and every row links to the one "
                      "before it, up to the chain head.")
    return True, (f"OK: filtered slice of {len(rows)} rows, each verified individually (its hash recomputes from its "
                  "own fields and stored previous hash); the rows between them are not in the file, so the links "
                  "between rows cannot be checked. Export without filters to check the whole chain.")


def main(argv):
    if len(argv) != 2:
        print("usage: python3 tools/verify_audit_export.py audit-export.csv", file=sys.stderr)
        return 1
    try:
        ok, message = verify(argv[1])
    except (OSError, UnicodeDecodeError, csv.Error, BadExport) as error:
        print(f"FAILED: cannot read {argv[1]}: {error}")
        return 1
    print(message)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
