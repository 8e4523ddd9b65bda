"""Integration keys for the CAD, alarm and vehicle-locator tests; a fresh channel layer for each test."""

import pytest
from channels.layers import channel_layers

from incidents.services import integration_key_create


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    # Each async test runs its own event loop; channels-redis keeps receive locks on the layer
    # object, so a layer reused from an earlier test's loop fails now and then ("bound to a
    # different event loop"). A new layer per test avoids that; the in-memory one does not care.
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture
def make_key(db):
    """make_key(kind, name=...) → (IntegrationKey, raw key)."""

    def make(kind, name=None):
        return integration_key_create(name=name or f"{kind.upper()} test system", kind=kind)

    return make


@pytest.fixture
def cad_key(make_key):
    return make_key("cad", "County CAD")


@pytest.fixture
def alarm_key(make_key):
    return make_key("alarm", "Acme Alarms")


@pytest.fixture
def avl_key(make_key):
    return make_key("avl", "Fleet AVL")


def bearer(raw_key):
    return {"HTTP_AUTHORIZATION": f"Bearer {raw_key}"}
