import pytest
from django.core.mail import EmailMultiAlternatives

from portal.models import OutboxEmail

pytestmark = pytest.mark.django_db


@pytest.fixture
def outbox_backend(settings):
    settings.EMAIL_BACKEND = "portal.mail.OutboxBackend"


def send_test_email():
    message = EmailMultiAlternatives("Confirm your address", "Open http://testserver/confirm/abc/ to confirm.",
                                     "portal@example.org", ["ana@example.org"])
    message.attach_alternative("<p>Open the link</p>", "text/html")
    message.send()


def test_the_development_backend_keeps_messages(outbox_backend):
    send_test_email()

    email = OutboxEmail.objects.get()
    assert (email.to, email.subject, email.body_html) == ("ana@example.org", "Confirm your address",
                                                          "<p>Open the link</p>")


def test_the_outbox_shows_messages_with_clickable_links_when_debug_is_on(client, settings, outbox_backend):
    settings.DEBUG = True
    send_test_email()
    email = OutboxEmail.objects.get()

    listing = client.get("/dev/outbox/").content.decode()
    detail = client.get(f"/dev/outbox/{email.pk}/").content.decode()

    assert "Confirm your address" in listing
    assert '<a href="http://testserver/confirm/abc/"' in detail


def test_the_outbox_does_not_exist_when_debug_is_off(client, settings, outbox_backend):
    settings.DEBUG = False
    send_test_email()

    assert client.get("/dev/outbox/").status_code == 404
    assert client.get(f"/dev/outbox/{OutboxEmail.objects.get().pk}/").status_code == 404
