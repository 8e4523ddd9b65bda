"""How cameras are loaded: Camera.from_db without Model.__init__, the memoised coverage lists, and
the columns searches leave unloaded. Each result must be what Django's default loading gives."""

import json

import pytest
from django.db import connection, models
from django.db.models.signals import post_init

from cameras.models import Camera
from cameras.tests.factories import CameraFactory

pytestmark = pytest.mark.django_db


def loaded_by_default(pk, *only):
    """The camera as Django's own Model.from_db builds it (through __init__)."""
    names = list(only) or [field.attname for field in Camera._meta.concrete_fields]
    values = Camera.objects.filter(pk=pk).values_list(*names).get()
    return models.Model.from_db.__func__(Camera, "default", names, values)


def state_of(camera):
    return {key: value for key, value in vars(camera).items() if key != "_state"}


def test_a_loaded_camera_equals_the_default_build(resident):
    camera = CameraFactory(owner=resident, coverage=["street", "parking"], direction_degrees=90)
    loaded = Camera.objects.get(pk=camera.pk)
    expected = loaded_by_default(camera.pk)

    assert type(loaded) is Camera
    assert state_of(loaded) == state_of(expected)
    assert (loaded._state.adding, loaded._state.db) == (False, "default")
    assert loaded.get_deferred_fields() == set()
    assert loaded.owner == resident


def test_fields_a_query_did_not_select_stay_deferred_and_load_on_access(resident, django_assert_num_queries):
    camera = CameraFactory(owner=resident, address="12 Elm Street")
    loaded = Camera.objects.only("name").get(pk=camera.pk)

    assert loaded.get_deferred_fields() == loaded_by_default(camera.pk, "id", "name").get_deferred_fields()
    assert "address" in loaded.get_deferred_fields()
    with django_assert_num_queries(1):
        assert loaded.address == "12 Elm Street"


def test_a_loaded_camera_saves_as_an_update(resident):
    camera = CameraFactory(owner=resident, name="Porch")
    loaded = Camera.objects.get(pk=camera.pk)
    loaded.name = "Front porch"
    loaded.save()

    assert Camera.objects.count() == 1
    assert Camera.objects.get(pk=camera.pk).name == "Front porch"


def test_loading_goes_through_init_while_something_listens_to_post_init(resident):
    camera = CameraFactory(owner=resident)
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance.pk)

    post_init.connect(receiver, sender=Camera)
    try:
        Camera.objects.get(pk=camera.pk)
    finally:
        post_init.disconnect(receiver, sender=Camera)
    assert seen == [camera.pk]


def test_every_camera_gets_a_coverage_list_of_its_own(resident):
    first = CameraFactory(owner=resident, coverage=["street", "entrance"])
    second = CameraFactory(owner=resident, coverage=["street", "entrance"])
    one, other = Camera.objects.filter(pk__in=[first.pk, second.pk]).order_by("pk")

    assert one.coverage == other.coverage == ["street", "entrance"]
    one.coverage.append("yard")
    assert other.coverage == ["street", "entrance"]
    assert Camera.objects.get(pk=second.pk).coverage == ["street", "entrance"]


@pytest.mark.parametrize("stored", [[], ["street"], {"street": True}, ["street", 3], "street", None])
def test_coverage_reads_back_whatever_json_the_column_holds(resident, stored):
    camera = CameraFactory(owner=resident)
    with connection.cursor() as cursor:  # bypass the model: whatever an older version may have written
        cursor.execute(f"UPDATE {Camera._meta.db_table} SET coverage = %s WHERE id = %s",  # noqa: S608
                       [json.dumps(stored), camera.pk])

    assert Camera.objects.get(pk=camera.pk).coverage == stored


def test_searches_leave_the_geometry_and_registration_time_unloaded(resident, django_assert_num_queries):
    camera = CameraFactory(owner=resident, latitude=40.7128, longitude=-74.006)
    with django_assert_num_queries(1):
        found = list(Camera.objects.within(40.7128, -74.006, 50))
    assert found == [camera]
    assert found[0].get_deferred_fields() == set(Camera.NOT_LOADED_BY_SEARCHES)

    with django_assert_num_queries(1):
        assert found[0].created_at == camera.created_at
