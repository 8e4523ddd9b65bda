"""Channels groups and the events sent to them. Events go out on commit, never before."""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
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


def publish_incident_event(incident, kind, **data):
    """Tell the incident's page and the RTCC feed that something changed, once the transaction commits."""
    event = {"type": "portal.event", "kind": kind, "incident": incident.pk, "reference": incident.reference, **data}

    def send():
        layer = get_channel_layer()
        if layer is None:
            return
        async_to_sync(layer.group_send)(incident_group(incident.pk), event)
        async_to_sync(layer.group_send)(FEED_GROUP, event)
        for officer_id in incident.assigned_officers.values_list("pk", flat=True):
            async_to_sync(layer.group_send)(user_group(officer_id), event)

    transaction.on_commit(send)


def publish_feed_event(kind, **data):
    """Send an event to the RTCC feed only (unit positions), once the transaction commits."""
    event = {"type": "portal.event", "kind": kind, **data}

    def send():
        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(layer.group_send)(FEED_GROUP, event)

    transaction.on_commit(send)
