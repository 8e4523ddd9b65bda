"""Channels groups and the events sent to them. Events go out on commit, never before."""

import json

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

FEED_GROUP = "rtcc-feed"


def incident_group(incident_id):
    return f"incident-{incident_id}"


def user_group(user_id):
    """Events for one staff member: the incidents assigned to them."""
    return f"user-{user_id}"


def incident_alert_data(incident):
    """What the RTCC map and alert feed show about an incident (no personal data)."""
    from django.urls import reverse

    return {
        "id": incident.pk, "reference": incident.reference, "title": str(incident.get_incident_type_display()),
        "incident_type": incident.incident_type,
        "priority": incident.priority, "priority_label": str(incident.get_priority_display()),
        "emergency": incident.priority == incident.Priority.EMERGENCY, "source": incident.source,
        "source_label": str(incident.get_source_display()),
        "live_kind": incident.kind, "status": incident.status, "latitude": incident.latitude,
        "longitude": incident.longitude, "address": incident.address,
        "occurred_at": incident.occurred_at.isoformat(), "url": reverse("incidents:detail", args=[incident.pk]),
        "live_url": reverse("incidents:live", args=[incident.pk]),
    }


def channel_message(kind, **data):
    """The layer message for an event: its JSON text is encoded once here, not once per listener."""
    return {"type": "portal.event", "text": json.dumps({"kind": kind, **data}, cls=DjangoJSONEncoder)}


def _send_on_commit(groups, message):
    def send():
        layer = get_channel_layer()
        if layer is None:
            return
        for group in groups() if callable(groups) else groups:
            async_to_sync(layer.group_send)(group, message)

    # robust: with Redis away the event is lost for listeners, but the change it announces is committed
    # and the request that made it must still succeed (pages reload what they show when they reconnect).
    transaction.on_commit(send, robust=True)


def publish_incident_event(incident, kind, **data):
    """Tell the incident's page, the RTCC feed and the assigned officers that something changed, on commit."""
    message = channel_message(kind, **{"incident": incident.pk, "reference": incident.reference, **data})

    def groups():  # read at commit, so that officers assigned in the same transaction hear of it
        officers = incident.assigned_officers.values_list("pk", flat=True)
        return [incident_group(incident.pk), FEED_GROUP, *(user_group(pk) for pk in officers)]

    _send_on_commit(groups, message)


def publish_feed_event(kind, **data):
    """Send an event to the RTCC feed only (unit positions), once the transaction commits."""
    _send_on_commit([FEED_GROUP], channel_message(kind, **data))
