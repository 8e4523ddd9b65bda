"""Channels groups and the events sent to them. Events go out on commit, never before."""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

FEED_GROUP = "rtcc-feed"


def incident_group(incident_id):
    return f"incident-{incident_id}"


def publish_incident_event(incident, kind, **data):
    """Tell the incident's page and the RTCC feed that something changed, once the transaction commits."""
    event = {"type": "portal.event", "kind": kind, "incident": incident.pk, "reference": incident.reference, **data}

    def send():
        layer = get_channel_layer()
        if layer is None:
            return
        async_to_sync(layer.group_send)(incident_group(incident.pk), event)
        async_to_sync(layer.group_send)(FEED_GROUP, event)

    transaction.on_commit(send)
