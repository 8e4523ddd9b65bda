"""Checks behind /healthz: the database, the channel layer and the django-q2 cluster."""

import asyncio
import time

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection
from django_q.conf import Conf
from django_q.status import Stat


def check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True, "engine": connection.vendor}


async def _round_trip(layer):
    channel = await layer.new_channel("healthz.")
    await layer.send(channel, {"type": "healthz.ping", "at": time.time()})
    message = await asyncio.wait_for(layer.receive(channel), timeout=2)
    return message["type"] == "healthz.ping"


def check_channel_layer():
    layer = get_channel_layer()
    if layer is None:
        return {"ok": False, "error": "no channel layer configured"}
    return {"ok": bool(async_to_sync(_round_trip)(layer)), "backend": type(layer).__name__}


def check_task_cluster():
    if Conf.SYNC:
        return {"ok": True, "mode": "synchronous (tasks run in the web process)"}
    # Clusters publish a heartbeat that expires after a few seconds, so only live ones are listed.
    clusters = [stat for stat in Stat.get_all() if stat.status != Conf.STOPPED]
    if not clusters:
        return {"ok": False, "error": "no django-q2 cluster is running (start it with `manage.py qcluster`)"}
    return {"ok": True, "clusters": len(clusters), "workers": sum(len(stat.workers) for stat in clusters)}


CHECKS = {"database": check_database, "channel_layer": check_channel_layer, "tasks": check_task_cluster}


def run_checks():
    """Run every check; a check that raises is reported as failed with its error."""
    results = {}
    for name, check in CHECKS.items():
        try:
            results[name] = check()
        except Exception as error:  # a health check reports failures instead of raising them
            results[name] = {"ok": False, "error": f"{type(error).__name__}: {error}"}
    return all(result["ok"] for result in results.values()), results
