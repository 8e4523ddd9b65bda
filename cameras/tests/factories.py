import factory

from cameras.models import Camera, SharingRules
from portal.tests.factories import OwnerFactory


class CameraFactory(factory.django.DjangoModelFactory):
    """A camera with default (most private) rules. Pass latitude/longitude to place it."""

    class Meta:
        model = Camera

    owner = factory.SubFactory(OwnerFactory)
    name = factory.Sequence(lambda n: f"Camera {n}")
    latitude = 40.7128
    longitude = -74.0060
    address = factory.Sequence(lambda n: f"{n} Main Street")
    site_kind = Camera.SiteKind.HOME
    coverage = factory.LazyFunction(lambda: ["street"])
    access_level = Camera.AccessLevel.REGISTERED

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        rules = kwargs.pop("rules", {})
        camera = model_class(*args, **kwargs)
        camera.set_location(camera.latitude, camera.longitude)
        camera.save()
        SharingRules.objects.create(camera=camera, **rules)
        return camera

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        rules = kwargs.pop("rules", {})
        camera = model_class(*args, **kwargs)
        camera.set_location(camera.latitude, camera.longitude)
        camera.rules = SharingRules(camera=camera, **rules)
        return camera
