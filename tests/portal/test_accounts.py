"""Sign-in by e-mail, MFA (required for provider admins), password reset, rate limits."""

import pytest
from allauth.mfa.totp.internal.auth import (
    format_hotp_value,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.core import mail
from django.urls import reverse

from portal.accounts.models import User
from tests.conftest import page_client
from tests.factories import PASSWORD, AdminFactory, ManagerFactory, UserFactory

pytestmark = pytest.mark.django_db


def current_code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, next(iter(yield_hotp_counters_from_time()))))


def test_sign_in_by_email_is_case_insensitive(client):
    user = UserFactory(email="someone@example.test")
    response = client.post(
        reverse("account_login"), {"login": "SomeOne@Example.test", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.get(reverse("dashboard")).context["user"] == user


def test_wrong_password_is_refused(client):
    UserFactory(email="someone@example.test")
    response = client.post(
        reverse("account_login"), {"login": "someone@example.test", "password": "nope"}
    )
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_signup_is_closed(client):
    response = client.get(reverse("account_signup"))
    assert response.status_code == 200
    assert b"closed" in response.content.lower()
    client.post(
        reverse("account_signup"),
        {"email": "new@x.test", "password1": "Qwerty!2345x", "password2": "Qwerty!2345x"},
    )
    assert not User.objects.filter(email="new@x.test").exists()


def test_admin_with_totp_needs_the_code(client):
    admin = AdminFactory()
    response = client.post(reverse("account_login"), {"login": admin.email, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session
    response = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert "_auth_user_id" not in client.session
    response = client.post(reverse("mfa_authenticate"), {"code": current_code(admin.totp_secret)})
    assert response.status_code == 302
    assert client.get(reverse("dashboard")).status_code == 200


def test_admin_without_totp_is_sent_to_set_it_up(client):
    admin = AdminFactory(totp=False)
    client.post(reverse("account_login"), {"login": admin.email, "password": PASSWORD})
    for url in (reverse("dashboard"), reverse("organization_list"), reverse("audit_log")):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == reverse("mfa_activate_totp")
    assert client.get("/api/v1/users/").json()["code"] == "mfa_required"
    assert_totp_setup_reachable(client)


def test_managers_and_customers_may_enrol_but_need_not(client):
    manager = ManagerFactory()
    client.post(reverse("account_login"), {"login": manager.email, "password": PASSWORD})
    assert client.get(reverse("weekly_board")).status_code == 200  # the manager's landing page
    assert_totp_setup_reachable(client)


def assert_totp_setup_reachable(client):
    """allauth asks for the password once more before TOTP is set up, then shows the QR code."""
    response = client.get(reverse("mfa_activate_totp"))
    assert response.status_code == 302 and response["Location"].startswith(
        reverse("account_reauthenticate")
    )
    client.post(response["Location"], {"password": PASSWORD})
    response = client.get(reverse("mfa_activate_totp"))
    assert response.status_code == 200
    assert b"<svg" in response.content or b"data:image" in response.content  # the QR code


def test_recovery_codes_are_offered():
    admin = AdminFactory()
    client = page_client(admin)
    response = client.get(reverse("mfa_index"))
    assert response.status_code == 200
    assert reverse("mfa_generate_recovery_codes") in response.content.decode()


def test_password_reset_mails_a_link(client):
    UserFactory(email="forgetful@example.test")
    response = client.post(reverse("account_reset_password"), {"email": "forgetful@example.test"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_login_failures_are_rate_limited(client, settings):
    """allauth's rate limits are on and backed by the real cache."""
    UserFactory(email="target@example.test")
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "3/m/ip,3/5m/key"}
    statuses = [
        client.post(
            reverse("account_login"), {"login": "target@example.test", "password": "bad"}
        ).status_code
        for _ in range(5)
    ]
    assert statuses[:3] == [200, 200, 200]
    blocked = client.post(
        reverse("account_login"), {"login": "target@example.test", "password": PASSWORD}
    )
    assert blocked.status_code == 429 or "_auth_user_id" not in client.session
    assert "_auth_user_id" not in client.session


def test_superuser_is_a_provider_admin():
    user = User.objects.create_superuser("root@example.test", "pw")
    assert user.is_provider_admin and user.is_staff and not user.is_customer
