"""Production's channel layer: two daphne processes sharing Redis deliver each other's events.

Runs when REDIS_URL is set (CI's PostgreSQL + Redis run); with the in-memory layer of the embedded
defaults, processes cannot share events at all, which is why production sets REDIS_URL.
"""

import asyncio
import json
import os

import pytest
import requests
import websockets
from django.conf import settings
from django.test import Client

from conftest import AsgiServer, sign_in

pytestmark = [
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL: two processes share events only "
                                                               "through Redis (CI runs this on PostgreSQL + Redis)"),
    pytest.mark.django_db(transaction=True),
]


def test_a_cad_event_posted_to_one_daphne_reaches_a_websocket_on_another(django_db_blocker, operator, cad_key):
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == "channels_redis.core.RedisChannelLayer"
    first, second = AsgiServer(django_db_blocker), AsgiServer(django_db_blocker)
    try:
        assert first.pid != second.pid
        client = sign_in(Client(), operator)
        cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"

        def post_event():
            return requests.post(f"{first.url}/api/v1/cad/events/", timeout=10,
                                 headers={"Authorization": f"Bearer {cad_key[1]}"},
                                 json={"external_id": "CAD-2-PROC", "event_type": "Robbery in progress",
                                       "priority": 1, "latitude": 40.7128, "longitude": -74.006,
                                       "address": "77 Two Server Way"})

        async def listen_on_second_while_posting_to_first():
            url = second.url.replace("http://", "ws://") + "/ws/feed/"
            async with websockets.connect(url, additional_headers={"Cookie": cookie, "Origin": second.url}) as socket:
                response = await asyncio.to_thread(post_event)
                message = await asyncio.wait_for(socket.recv(), timeout=10)
                return response, json.loads(message)

        response, event = asyncio.run(listen_on_second_while_posting_to_first())

        assert response.status_code == 201, response.text
        assert (event["kind"], event["address"], event["emergency"]) == ("incident_opened", "77 Two Server Way", True)
        assert event["reference"] == response.json()["reference"]
    finally:
        first.stop()
        second.stop()


def test_a_websocket_idle_longer_than_redis_reads_wait_stays_connected_and_gets_the_next_event(
        django_db_blocker, operator, cad_key):
    # redis-py 8 times socket reads out after 5 s by default, and channels-redis waits for messages with a
    # 5 s blocking read: unless the channel layer's socket timeout is longer, every idle socket is torn down.
    server = AsgiServer(django_db_blocker)
    try:
        client = sign_in(Client(), operator)
        cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"

        def post_event():
            return requests.post(f"{server.url}/api/v1/cad/events/", timeout=10,
                                 headers={"Authorization": f"Bearer {cad_key[1]}"},
                                 json={"external_id": "CAD-IDLE", "event_type": "Burglar alarm", "priority": 1,
                                       "latitude": 40.7128, "longitude": -74.006, "address": "8 Quiet Street"})

        async def wait_then_listen():
            url = server.url.replace("http://", "ws://") + "/ws/feed/"
            async with websockets.connect(url, additional_headers={"Cookie": cookie, "Origin": server.url}) as socket:
                await asyncio.sleep(12)  # a quiet spell: two of channels-redis's 5 s waits, and more
                response = await asyncio.to_thread(post_event)
                message = await asyncio.wait_for(socket.recv(), timeout=10)
                return response, json.loads(message)

        response, event = asyncio.run(wait_then_listen())

        assert response.status_code == 201, response.text
        assert event["address"] == "8 Quiet Street"
    finally:
        server.stop()


def test_hundreds_of_sockets_joining_and_leaving_at_once_share_the_redis_pool():
    # Every socket that connects or leaves adds itself to or removes itself from its groups at that moment;
    # redis-py's asyncio pool refuses a 101st connection in use at once, so a busy RTCC (or everyone
    # reconnecting after a restart, or leaving at the end of a shift) would crash consumers.
    from channels.layers import get_channel_layer

    async def crowd():
        layer = get_channel_layer()
        channels = [await layer.new_channel() for _ in range(300)]
        await asyncio.gather(*(layer.group_add("crowd-test", channel) for channel in channels))
        await layer.group_send("crowd-test", {"type": "crowd.hello"})
        received = await asyncio.gather(*(layer.receive(channel) for channel in channels))
        await asyncio.gather(*(layer.group_discard("crowd-test", channel) for channel in channels))
        return received

    received = asyncio.run(crowd())

    assert [message["type"] for message in received] == ["crowd.hello"] * 300
