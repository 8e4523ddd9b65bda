"""/ws/me/: the incidents assigned to the signed-in officer, pushed as they are assigned or change."""

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from incidents.models import Incident
from incidents.services import incident_create, incident_update
from incidents.tests.test_consumers import connect
from portal.roles import OFFICER
from portal.tests.factories import StaffFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest.mark.parametrize(("role", "allowed"), [(None, False), ("resident", False), ("oversight", False),
                                               ("officer", True), ("operator", True)])
async def test_who_may_follow_their_own_assignments(request, role, allowed, settings):
    settings.ALLOWED_HOSTS = ["localhost"]
    user = await sync_to_async(request.getfixturevalue)(role) if role else None

    communicator, connected = await connect("/ws/me/", user)

    assert connected is allowed
    await communicator.disconnect()


async def test_an_officer_hears_of_incidents_assigned_to_them_and_only_those(officer, operator, settings):
    settings.ALLOWED_HOSTS = ["localhost"]
    colleague = await sync_to_async(StaffFactory)(roles=[OFFICER])
    mine, _ok = await connect("/ws/me/", officer)
    theirs, _ok = await connect("/ws/me/", colleague)
    now = timezone.now()

    @sync_to_async
    def open_incident(officers):
        return incident_create(created_by=operator, assigned_officers=officers, incident_type=Incident.Type.ROBBERY,
                               priority=Incident.Priority.EMERGENCY, latitude=40.71, longitude=-74.0,
                               address="5 Main St", window_start=now - timezone.timedelta(minutes=5),
                               window_end=now)

    incident = await open_incident([officer])

    event = await mine.receive_json_from(timeout=2)
    assert (event["kind"], event["reference"], event["emergency"]) == ("incident_opened", incident.reference, True)
    assert await theirs.receive_nothing(timeout=0.3)

    await sync_to_async(incident_update)(incident=incident, actor=operator, assigned_officers=[officer, colleague])

    assert (await theirs.receive_json_from(timeout=2))["kind"] == "incident_updated"
    assert (await mine.receive_json_from(timeout=2))["kind"] == "incident_updated"
    await mine.disconnect()
    await theirs.disconnect()
