import pytest
from django_q.conf import Conf

pytestmark = pytest.mark.django_db


def test_healthz_reports_every_part_when_healthy(client):
    response = client.get("/healthz")

    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["channel_layer"]["ok"] is True
    assert body["checks"]["tasks"]["ok"] is True


def test_healthz_is_503_when_no_task_cluster_runs(client, monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", False)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["status"] == "degraded"
    assert "no django-q2 cluster" in response.json()["checks"]["tasks"]["error"]


def test_healthz_is_503_when_the_channel_layer_is_broken(client, settings):
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]}}
    }
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    try:
        response = client.get("/healthz")
    finally:
        channel_layers.backends.clear()

    assert response.status_code == 503
    assert response.json()["checks"]["channel_layer"]["ok"] is False
    assert response.json()["checks"]["database"]["ok"] is True


def test_healthz_is_not_cached(client):
    assert "no-cache" in client.get("/healthz")["Cache-Control"]
