"""allauth's login rate limits, as configured (its defaults: 5 failures per 5 minutes for one
address, 10 failures per minute from one IP), on the shared cache: once tripped, even the right
password is refused."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

TOO_MANY = "Too many failed login attempts"


def attempt(client: Client, email: str, password: str, ip: str = "198.51.100.7"):
    return client.post(
        reverse("account_login"), {"login": email, "password": password}, REMOTE_ADDR=ip
    )


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_five_failures_lock_the_address_even_for_the_right_password(settings):
    assert settings.ACCOUNT_RATE_LIMITS_ENABLED is True
    assert "ACCOUNT_RATE_LIMITS" not in dir(settings._wrapped)  # allauth's defaults, unchanged
    target = UserFactory(email="target@example.test")
    client = Client()
    for _ in range(5):
        response = attempt(client, target.email, "wrong")
        assert response.status_code == 200
        assert TOO_MANY not in response.content.decode()
    response = attempt(client, target.email, PASSWORD)
    assert TOO_MANY in response.content.decode()
    assert not signed_in(client)
    # From another address too: the limit is on the account, not only on the client.
    other_ip = Client()
    response = attempt(other_ip, target.email, PASSWORD, ip="203.0.113.9")
    assert TOO_MANY in response.content.decode() and not signed_in(other_ip)
    # Someone else's account is not locked by it.
    bystander = UserFactory(email="bystander@example.test")
    response = attempt(Client(), bystander.email, PASSWORD, ip="203.0.113.10")
    assert response.status_code == 302


def test_ten_failures_from_one_ip_lock_that_ip_for_every_account():
    victims = [UserFactory(email=f"victim{index}@example.test") for index in range(5)]
    client = Client()
    for victim in victims:  # two failures each: no account reaches its own limit of five
        for _ in range(2):
            assert TOO_MANY not in attempt(client, victim.email, "wrong").content.decode()
    fresh = UserFactory(email="fresh@example.test")
    response = attempt(client, fresh.email, PASSWORD)
    assert TOO_MANY in response.content.decode() and not signed_in(client)
    # The same account from another IP still signs in.
    elsewhere = Client()
    assert attempt(elsewhere, fresh.email, PASSWORD, ip="203.0.113.20").status_code == 302
    assert signed_in(elsewhere)
