"""The Django admin for operators: the outbox (resend), API tokens (revoke) and the audit trail,
each read-only where changes must go through the services."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portal.accounts.models import ApiToken
from portal.accounts.services import api_token_create
from portal.audit import AuditEntry, audit
from portal.notifications import OutboxEmail, deliver_outbox, outbox_resend
from tests.conftest import page_client
from tests.factories import AdminFactory, UserFactory

pytestmark = pytest.mark.django_db

LONG_AGO = datetime(2025, 1, 6, 9, tzinfo=UTC)


@pytest.fixture
def superuser():
    # With TOTP set up: RequireAdminMfaMiddleware sends an admin without it to set it up first.
    return AdminFactory(email="root@provider.test", is_superuser=True)


@pytest.fixture
def admin_client(superuser) -> Client:
    return page_client(superuser)


def failed_email(**fields) -> OutboxEmail:
    defaults = {
        "to": "bounced@example.test",
        "subject": "Your case was answered",
        "body": "Details",
        "attempts": 4,
        "last_error": "SMTPRecipientsRefused: mailbox full",
        "send_after": timezone.now() + timedelta(minutes=30),
    }
    return OutboxEmail.objects.create(**{**defaults, **fields})


def run_action(client: Client, model: str, action: str, pks: list[int]):
    return client.post(
        reverse(f"admin:{model}_changelist"),
        {"action": action, ACTION_CHECKBOX_NAME: [str(pk) for pk in pks]},
        follow=True,
    )


# --- Pages ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("model", ["portal_outboxemail", "accounts_apitoken", "portal_auditentry"])
def test_each_admin_page_loads_for_a_superuser(admin_client, superuser, model):
    email = failed_email()
    token, _plain = api_token_create(user=superuser, name="CI export", scopes=["read"])
    entry = AuditEntry.objects.latest("id")
    obj = {"portal_outboxemail": email, "accounts_apitoken": token, "portal_auditentry": entry}
    changelist = admin_client.get(reverse(f"admin:{model}_changelist"))
    assert changelist.status_code == 200
    detail = admin_client.get(reverse(f"admin:{model}_change", args=[obj[model].pk]))
    assert detail.status_code == 200
    assert admin_client.get(reverse("admin:index")).status_code == 200


def test_the_outbox_shows_the_last_error(admin_client):
    email = failed_email()
    page = admin_client.get(reverse("admin:portal_outboxemail_change", args=[email.pk]))
    assert "SMTPRecipientsRefused: mailbox full" in page.content.decode()


@pytest.mark.parametrize("model", ["portal_outboxemail", "accounts_apitoken", "portal_auditentry"])
def test_nothing_is_added_changed_or_deleted_through_the_admin(admin_client, superuser, model):
    email = failed_email()
    token, _plain = api_token_create(user=superuser, name="CI export", scopes=["read"])
    entry = audit(actor=superuser, action="test.thing", instance=token)
    obj = {"portal_outboxemail": email, "accounts_apitoken": token, "portal_auditentry": entry}[
        model
    ]
    assert admin_client.get(reverse(f"admin:{model}_add")).status_code == 403
    assert admin_client.post(reverse(f"admin:{model}_delete", args=[obj.pk])).status_code == 403
    # The change page is a view-only page: posting to it changes nothing.
    before = type(obj).objects.filter(pk=obj.pk).values().get()
    response = admin_client.post(reverse(f"admin:{model}_change", args=[obj.pk]), {"to": "x@y.z"})
    assert response.status_code == 403
    assert type(obj).objects.filter(pk=obj.pk).values().get() == before
    # No bulk delete either.
    changelist = admin_client.get(reverse(f"admin:{model}_changelist")).content.decode()
    assert "delete_selected" not in changelist


# --- Outbox: resend -------------------------------------------------------------------------------
def test_resend_puts_a_failed_email_up_for_delivery_now(admin_client, mailoutbox):
    waiting = failed_email()
    sent = failed_email(to="sent@example.test", sent_at=LONG_AGO, attempts=1, last_error="")
    untouched = failed_email(to="other@example.test")
    assert deliver_outbox() == (0, 0)  # still backing off
    response = run_action(admin_client, "portal_outboxemail", "resend", [waiting.pk, sent.pk])
    assert response.status_code == 200
    assert "2 e-mails will be sent at the next outbox run." in response.content.decode()
    waiting.refresh_from_db()
    assert (waiting.sent_at, waiting.attempts, waiting.last_error) == (None, 0, "")
    assert waiting.send_after <= timezone.now()
    untouched.refresh_from_db()
    assert untouched.attempts == 4 and untouched.last_error
    assert deliver_outbox() == (2, 0)
    assert sorted(message.to[0] for message in mailoutbox) == [
        "bounced@example.test",
        "sent@example.test",
    ]


def test_outbox_resend_is_a_function_of_the_notifications_module():
    email = failed_email()
    assert outbox_resend([email.pk]) == 1
    email.refresh_from_db()
    assert email.attempts == 0 and email.last_error == "" and email.sent_at is None


def test_a_provider_admin_without_the_permission_cannot_resend():
    staff = AdminFactory(email="staff@provider.test")  # admin site access, no model permissions
    assert staff.is_staff and not staff.is_superuser
    client = Client()
    client.force_login(staff)
    email = failed_email()
    run_action(client, "portal_outboxemail", "resend", [email.pk])
    email.refresh_from_db()
    assert email.attempts == 4


# --- API tokens: revoke ---------------------------------------------------------------------------
def test_revoke_revokes_through_the_service_and_audits(admin_client, superuser):
    owner = UserFactory(email="integrator@example.test")
    token, _plain = api_token_create(user=owner, name="Nightly sync", scopes=["read", "write"])
    keep, _plain = api_token_create(user=owner, name="Keep", scopes=["read"])
    response = run_action(admin_client, "accounts_apitoken", "revoke", [token.pk])
    assert "1 token revoked." in response.content.decode()
    token.refresh_from_db()
    keep.refresh_from_db()
    assert token.revoked_at is not None and keep.revoked_at is None
    assert not ApiToken.objects.usable().filter(pk=token.pk).exists()
    entry = AuditEntry.objects.get(action="api_token.revoke")
    assert (entry.actor, entry.object_id) == (superuser, str(token.pk))
    assert (entry.before, entry.after) == (
        {"revoked_at": None},
        {"revoked_at": token.revoked_at.isoformat()},
    )
    # The token's hash is never shown.
    page = admin_client.get(reverse("admin:accounts_apitoken_change", args=[token.pk]))
    assert token.key_hash not in page.content.decode()


def test_resend_leaves_an_email_a_deliverer_is_sending_to_it():
    in_flight = failed_email(
        claimed_until=timezone.now() + timedelta(minutes=1), claim_token="deliverer-1"
    )
    expired = failed_email(
        to="late@example.test",
        claimed_until=timezone.now() - timedelta(seconds=1),
        claim_token="deliverer-0",
    )
    assert outbox_resend([in_flight.pk, expired.pk]) == 1
    in_flight.refresh_from_db()
    expired.refresh_from_db()
    assert (in_flight.claim_token, in_flight.attempts) == ("deliverer-1", 4)
    assert (expired.claim_token, expired.claimed_until, expired.attempts) == ("", None, 0)
