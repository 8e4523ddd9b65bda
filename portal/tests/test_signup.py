import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from portal.models import User

pytestmark = pytest.mark.django_db

STRONG_PASSWORD = "lantern-orchard-41"


def signup(client, **overrides):
    data = {
        "full_name": "Ana Vecina",
        "account_type": "resident",
        "business_name": "",
        "phone": "",
        "email": "ana@example.org",
        "password1": STRONG_PASSWORD,
        "password2": STRONG_PASSWORD,
    }
    data.update(overrides)
    return client.post(reverse("account_signup"), data)


def confirmation_link():
    return re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+/)", mail.outbox[-1].body).group(1)


def test_a_resident_signs_up_and_must_verify_before_getting_in(client):
    response = signup(client)

    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    user = User.objects.get(email="ana@example.org")
    assert (user.account_type, user.full_name, user.is_staff) == ("resident", "Ana Vecina", False)
    assert not EmailAddress.objects.get(user=user).verified
    assert client.get(reverse("portal:dashboard")).status_code == 302


def test_the_verification_link_confirms_the_address_and_signs_in(client):
    signup(client)
    link = confirmation_link()

    response = client.post(link)

    assert response["Location"] == reverse("portal:dashboard")
    assert EmailAddress.objects.get(email="ana@example.org").verified
    assert client.get(reverse("portal:dashboard")).status_code == 200


def test_unverified_accounts_cannot_sign_in(client):
    signup(client)
    client.logout()

    response = client.post(reverse("account_login"), {"login": "ana@example.org", "password": STRONG_PASSWORD})

    assert response["Location"] == reverse("account_email_verification_sent")
    assert client.get(reverse("portal:dashboard")).status_code == 302


def test_a_business_signs_up_with_its_name_and_phone(client):
    signup(client, account_type="business", business_name="Lupe's Laundromat", phone="(555) 010-4455",
           email="lupe@example.org")

    user = User.objects.get(email="lupe@example.org")
    assert (user.account_type, user.business_name, user.phone) == ("business", "Lupe's Laundromat", "(555) 010-4455")
    assert user.display_name == "Lupe's Laundromat"


def test_a_business_without_a_name_or_phone_is_told_what_is_missing(client):
    response = signup(client, account_type="business", email="nameless@example.org")

    errors = response.context["form"].errors
    assert errors["business_name"] == ["Businesses must give the business name."]
    assert errors["phone"] == ["Businesses must give a phone number police can call."]
    assert not User.objects.filter(email="nameless@example.org").exists()


def test_a_bad_phone_number_is_refused_with_an_example(client):
    response = signup(client, phone="call me")

    assert "at least 7 digits" in response.context["form"].errors["phone"][0]
    assert User.objects.count() == 0


def test_a_resident_does_not_keep_a_business_name(client):
    signup(client, business_name="Not a business")

    assert User.objects.get(email="ana@example.org").business_name == ""


def test_nobody_can_sign_up_as_staff(client):
    response = signup(client, account_type="staff")

    assert "account_type" in response.context["form"].errors
    assert User.objects.count() == 0


def test_a_weak_password_is_refused(client):
    response = signup(client, password1="12345678", password2="12345678")

    assert response.context["form"].errors["password1"]
    assert User.objects.count() == 0


def test_signup_remembers_the_chosen_language(client):
    client.post(reverse("set_language"), {"language": "es", "next": "/"})

    signup(client)

    assert User.objects.get(email="ana@example.org").language == "es"
