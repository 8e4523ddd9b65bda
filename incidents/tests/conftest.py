"""Integration keys for the CAD, alarm and vehicle-locator tests."""

import pytest

from incidents.services import integration_key_create


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
