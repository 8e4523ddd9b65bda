from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from incidents.models import Incident
from incidents.realtime import FEED_GROUP, incident_group, user_group
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

    async def portal_event(self, event):
        await self.send_json({key: value for key, value in event.items() if key != "type"})

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
