import pytest
from django.urls import reverse

from cameras.models import Camera
from cameras.policy import evaluate_live_access
from cameras.tests.factories import CameraFactory
from portal.models import AuditEvent, Waiver, WaiverSignature
from portal.services import waiver_create, waiver_publish
from portal.tests.factories import sign_waiver

pytestmark = pytest.mark.django_db


def test_an_owner_signs_with_their_typed_name_and_a_tick(client, resident, waivers, login):
    login(client, resident)

    response = client.post(reverse("portal:waiver_sign"), {"typed_name": " rosa  RESIDENT ", "agreed": "on"},
                           HTTP_USER_AGENT="Firefox on a phone", REMOTE_ADDR="198.51.100.4")

    assert response.status_code == 302
    signature = WaiverSignature.objects.get(user=resident)
    assert signature.waiver == waivers["resident"]
    assert signature.text_sha256 == waivers["resident"].text_sha256
    assert (signature.ip_address, signature.user_agent) == ("198.51.100.4", "Firefox on a phone")
    assert AuditEvent.objects.filter(action="waiver.signed", actor=resident).exists()


def test_signing_needs_the_tick_and_the_right_name(client, resident, waivers, login):
    login(client, resident)

    response = client.post(reverse("portal:waiver_sign"), {"typed_name": "Someone Else"})

    errors = response.context["form"].errors
    assert errors["agreed"] == ["Tick the box to confirm that you agree."]
    assert "Rosa Resident" in errors["typed_name"][0]
    assert not WaiverSignature.objects.exists()


def test_a_business_signs_the_business_version(client, business, waivers, login):
    login(client, business)

    client.post(reverse("portal:waiver_sign"), {"typed_name": "Bo Owner", "agreed": "on"})

    assert WaiverSignature.objects.get(user=business).waiver == waivers["business"]


def test_the_owner_can_open_exactly_what_they_signed(client, resident, waivers, login):
    signature = sign_waiver(resident)
    login(client, resident)

    page = client.get(reverse("portal:waiver_signature", args=[signature.pk])).content.decode()

    assert "Agreement for residents" in page
    assert signature.text_sha256 in page
    assert "Rosa Resident" in page


def test_nobody_else_can_open_a_signature(client, resident, other_owner, supervisor, waivers, login):
    signature = sign_waiver(resident)

    for user in (other_owner, supervisor):
        client.logout()
        login(client, user)
        assert client.get(reverse("portal:waiver_signature", args=[signature.pk])).status_code in (302, 404)


def test_signatures_are_never_changed_or_deleted(resident, waivers):
    signature = sign_waiver(resident)

    signature.typed_name = "Forged"
    with pytest.raises(ValueError):
        signature.save()
    with pytest.raises(ValueError):
        signature.delete()


def test_a_new_version_stops_sharing_until_the_owner_signs_again(client, business, operator, waivers, login):
    sign_waiver(business)
    camera = CameraFactory(owner=business, access_level=Camera.AccessLevel.INTEGRATED,
                           rules={"live_mode": "always"})
    facts = Camera.objects.with_policy_facts()
    assert evaluate_live_access(facts.get(pk=camera.pk), operator, camera.created_at).allowed

    new = waiver_create(audience="business", title="Agreement v2", body="New terms.", actor=operator)
    waiver_publish(waiver=new, actor=operator)

    decision = evaluate_live_access(facts.get(pk=camera.pk), operator, camera.created_at)
    assert (decision.allowed, decision.code) == (False, "waiver_not_current")
    login(client, business)
    assert "The program agreement has changed." in client.get(reverse("portal:dashboard")).content.decode()
    sign_waiver(business)
    assert evaluate_live_access(facts.get(pk=camera.pk), operator, camera.created_at).allowed


def test_publishing_keeps_one_current_version_per_audience(supervisor, waivers):
    second = waiver_publish(waiver=waiver_create(audience="resident", title="v2", body="b", actor=supervisor),
                            actor=supervisor)

    assert second.version == 2
    assert list(Waiver.objects.current().values_list("pk", flat=True).order_by("pk")) == sorted(
        [waivers["business"].pk, second.pk])


def test_owners_must_sign_before_registering_a_camera(client, resident, waivers, login):
    login(client, resident)

    response = client.get(reverse("cameras:create"))

    assert response["Location"] == reverse("portal:waiver_sign")
