import math
import time

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from incidents.models import Incident
from incidents.realtime import FEED_GROUP, incident_group, user_group
from incidents.units import unit_location_share, unit_location_stop
from portal.mfa import staff_session_ok


class StaffEventsConsumer(AsyncJsonWebsocketConsumer):
    """Live events for one incident's page (/ws/incidents/<id>/), the RTCC feed (/ws/feed/), or the
    incidents assigned to the signed-in officer (/ws/me/)."""

    async def connect(self):
        self.group = await self.allowed_group()
        if self.group is None:
            await self.close(code=4403)
            return
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if getattr(self, "group", None):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def dispatch(self, message):
        # Channels closes stale database connections before every handler, one trip to the
        # database thread per message per listener; an RTCC alert fans out to hundreds of
        # listeners and touches no database, so it goes straight out.
        if message["type"] == "portal.event":
            await self.portal_event(message)
        else:
            await super().dispatch(message)

    async def portal_event(self, event):
        await self.send(text_data=event["text"])

    @database_sync_to_async
    def allowed_group(self):
        user, session = self.scope.get("user"), self.scope.get("session")
        if user is None or session is None or not staff_session_ok(session, user):
            return None
        if not user.has_perm("incidents.view_incident"):
            return None
        kwargs = self.scope["url_route"]["kwargs"]
        if kwargs.get("stream") == "me":
            return user_group(user.pk)
        incident_id = kwargs.get("incident_id")
        if incident_id is None:
            return FEED_GROUP if user.has_perm("incidents.change_incident") else None
        if not Incident.objects.visible_to(user).filter(pk=incident_id).exists():
            return None
        return incident_group(incident_id)


class UnitShareConsumer(AsyncJsonWebsocketConsumer):
    """/ws/units/me/: an officer's phone shares its position while the socket is open (opt-in)."""

    # One write per connection every MIN_INTERVAL seconds; positions in between are dropped.
    MIN_INTERVAL = 2.0

    async def connect(self):
        self.officer, self.last_write, self.shared = await self.allowed_officer(), None, False
        if self.officer is None:
            await self.close(code=4403)
            return
        await self.accept()

    async def disconnect(self, code):
        if getattr(self, "shared", False):
            await self.stop_sharing()

    async def receive_json(self, content, **kwargs):
        if not isinstance(content, dict) or content.get("type") != "location":
            await self.send_json({"type": "error", "message": _("Send {\"type\": \"location\", ...} messages.")})
            return
        try:
            position = read_position(content)
        except ValueError as error:
            await self.send_json({"type": "error", "message": str(error)})
            return
        if not self.officer.badge_number:
            await self.send_json({"type": "error",
                                  "message": _("Your account has no badge number; ask a supervisor to add it.")})
            return
        now = time.monotonic()
        if self.last_write is not None and now - self.last_write < self.MIN_INTERVAL:
            return
        self.last_write = now
        try:
            unit = await self.save_position(position)
        except ValidationError:
            await self.send_json({"type": "error", "message": _("The position could not be saved.")})
            return
        self.shared = True
        await self.send_json({"type": "location_saved", "updated_at": unit.updated_at.isoformat()})

    @classmethod
    async def decode_json(cls, text_data):
        try:
            return await super().decode_json(text_data)
        except ValueError:
            return None

    @database_sync_to_async
    def allowed_officer(self):
        user, session = self.scope.get("user"), self.scope.get("session")
        if user is None or session is None or not staff_session_ok(session, user):
            return None
        return user if user.has_perm("incidents.view_incident") else None

    @database_sync_to_async
    def save_position(self, position):
        return unit_location_share(officer=self.officer, **position)

    @database_sync_to_async
    def stop_sharing(self):
        unit_location_stop(officer=self.officer)


def _number(content, name, low, high, *, required):
    value = content.get(name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
            or not low <= value <= high:
        raise ValueError(_("%(name)s must be a number from %(low)s to %(high)s.")
                         % {"name": name, "low": low, "high": high})
    return float(value)


def read_position(content):
    """The position in a phone's message, checked; ValueError names the first bad value."""
    return {
        "latitude": _number(content, "latitude", -90, 90, required=True),
        "longitude": _number(content, "longitude", -180, 180, required=True),
        "accuracy_m": _number(content, "accuracy", 0, 100_000, required=False),
        "heading": _number(content, "heading", 0, 360, required=False),
    }
