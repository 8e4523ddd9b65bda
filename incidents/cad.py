"""Reading what dispatch (CAD) and alarm systems send: event types and priorities in their words."""

import re

from incidents.models import Incident

Type = Incident.Type

# Exact event types (after normalising: lower case, words separated by single spaces).
EVENT_TYPES = {
    "alarm": Type.ALARM, "burglar alarm": Type.ALARM, "panic alarm": Type.ALARM, "holdup alarm": Type.ALARM,
    "intrusion alarm": Type.ALARM, "duress alarm": Type.ALARM,
    "shots fired": Type.SHOOTING, "shooting": Type.SHOOTING, "shotspotter": Type.SHOOTING,
    "burglary": Type.BURGLARY, "break in": Type.BURGLARY, "breaking and entering": Type.BURGLARY,
    "robbery": Type.ROBBERY, "armed robbery": Type.ROBBERY, "holdup": Type.ROBBERY, "carjacking": Type.ROBBERY,
    "assault": Type.ASSAULT, "battery": Type.ASSAULT, "stabbing": Type.ASSAULT,
    "hit and run": Type.HIT_AND_RUN, "missing person": Type.MISSING_PERSON, "runaway": Type.MISSING_PERSON,
    "theft": Type.THEFT, "larceny": Type.THEFT, "shoplifting": Type.THEFT,
    "vehicle theft": Type.VEHICLE_THEFT, "stolen vehicle": Type.VEHICLE_THEFT, "auto theft": Type.VEHICLE_THEFT,
    "vandalism": Type.VANDALISM, "criminal mischief": Type.VANDALISM, "graffiti": Type.VANDALISM,
}
# Otherwise the first keyword found decides, in this order ("burglar alarm in progress" is an alarm).
KEYWORDS = [
    ("alarm", Type.ALARM), ("shot", Type.SHOOTING), ("gunfire", Type.SHOOTING), ("robbery", Type.ROBBERY),
    ("burglar", Type.BURGLARY), ("break in", Type.BURGLARY), ("assault", Type.ASSAULT),
    ("hit and run", Type.HIT_AND_RUN), ("missing", Type.MISSING_PERSON), ("stolen vehicle", Type.VEHICLE_THEFT),
    ("vehicle theft", Type.VEHICLE_THEFT), ("theft", Type.THEFT), ("larceny", Type.THEFT),
    ("vandal", Type.VANDALISM),
]

PRIORITY_WORDS = {"emergency": Incident.Priority.EMERGENCY, "urgent": Incident.Priority.URGENT,
                  "routine": Incident.Priority.ROUTINE}


def normalise(text):
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower().replace("&", " and ")).split())


def incident_type_for(event_type):
    """The Incident.Type for a CAD event type such as "Shots Fired" or "BURGLAR-ALARM"; unknown → other."""
    words = normalise(event_type)
    if words in EVENT_TYPES:
        return EVENT_TYPES[words]
    for keyword, incident_type in KEYWORDS:
        if re.search(rf"\b{keyword}", words):
            return incident_type
    return Type.OTHER


def priority_for(value):
    """1, 2, 3 (or "1".."3") or emergency / urgent / routine → Incident.Priority; None if not understood."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
        number = int(value)
        return Incident.Priority(number) if number in Incident.Priority.values else None
    if isinstance(value, str):
        return PRIORITY_WORDS.get(value.strip().lower())
    return None


def description_for(event_type, description):
    """The incident's description keeps the CAD's own words for the event on its first line."""
    first_line = event_type.strip()
    return f"{first_line}\n\n{description.strip()}" if description.strip() else first_line
