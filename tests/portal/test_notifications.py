"""In-app notifications (list, mark read, read all, the unread badge) and the e-mail outbox
(delivery, retry with backoff after an SMTP failure, the customer's language)."""

from datetime import timedelta
from smtplib import SMTPException

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.casework import services
from portal import notifications as notifications_module
from portal.notifications import Notification, OutboxEmail, deliver_outbox, notify
from tests.conftest import page_client as signed_in
from tests.isolation.harness import _comparable

pytestmark = pytest.mark.django_db


def tell(user, title, *, key=None, url="/cases/1/", engagement=None):
    created = notify(
        users=[user],
        kind="test",
        key=key or f"test:{title}",
        url=url,
        engagement=engagement,
        render=lambda: (title, f"Body of {title}"),
    )
    return created[0] if created else None


def test_the_list_shows_mine_newest_first_and_the_nav_counts_unread(world):
    first = tell(world.a.poc, "First news")
    second = tell(world.a.poc, "Second news")
    tell(world.a.member, "Not for the PoC")
    client = signed_in(world.a.poc)
    body = client.get(reverse("notifications")).content.decode()
    assert body.index("Second news") < body.index("First news")
    assert "Not for the PoC" not in body
    assert reverse("notification_read", args=[first.pk]) in body
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert 'class="badge badge-alert nav-unread"' in dashboard and "2 unread" in dashboard
    Notification.objects.filter(pk__in=[first.pk, second.pk]).update(read_at=timezone.now())
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert "nav-unread" not in dashboard


def test_marking_one_read_and_opening_its_link(world):
    one = tell(world.a.poc, "One", url="/cases/42/")
    two = tell(world.a.poc, "Two", url="https://evil.example/phish")
    client = signed_in(world.a.poc)
    response = client.post(reverse("notification_read", args=[one.pk]))
    assert response["Location"] == reverse("notifications")
    one.refresh_from_db()
    assert one.read_at is not None
    first_read = one.read_at
    response = client.post(reverse("notification_read", args=[one.pk]), {"open": "1"})
    assert response["Location"] == "/cases/42/"
    one.refresh_from_db()
    assert one.read_at == first_read  # read once; not moved
    # Only links into the portal are followed.
    response = client.post(reverse("notification_read", args=[two.pk]), {"open": "1"})
    assert response["Location"] == reverse("notifications")
    assert client.get(reverse("notification_read", args=[two.pk])).status_code == 405


def test_marking_all_read(world):
    for n in range(3):
        tell(world.a.poc, f"News {n}")
    other = tell(world.a.member, "Member's")
    client = signed_in(world.a.poc)
    response = client.post(reverse("notifications_read_all"), follow=True)
    assert "3 notifications marked read." in response.content.decode()
    assert not Notification.objects.filter(user=world.a.poc, read_at__isnull=True).exists()
    other.refresh_from_db()
    assert other.read_at is None


def test_another_users_notification_is_404_like_a_missing_one(world):
    theirs = tell(world.a.member, "Member's own")  # same organization, another user
    client = signed_in(world.a.poc)
    foreign = client.post(reverse("notification_read", args=[theirs.pk]))
    missing = client.post(reverse("notification_read", args=[987654321]))
    assert foreign.status_code == missing.status_code == 404
    assert _comparable(foreign) == _comparable(missing)
    theirs.refresh_from_db()
    assert theirs.read_at is None


def _count(client, url):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_list_issues_constant_queries(world):
    client = signed_in(world.a.poc)
    url = reverse("notifications")
    for n in range(3):
        tell(world.a.poc, f"Few {n}")
    client.get(url)
    few = _count(client, url)
    for n in range(27):
        tell(world.a.poc, f"Many {n}")
    assert _count(client, url) == few


# --- The outbox ---------------------------------------------------------------------------------


def test_deliver_outbox_sends_pending_mail_once(world):
    tell(world.a.poc, "Hello")
    tell(world.manager, "Hi")
    assert deliver_outbox() == (2, 0)
    assert sorted(message.to[0] for message in mail.outbox) == [
        world.manager.email,
        world.a.poc.email,
    ]
    assert {message.subject for message in mail.outbox} == {"Hello", "Hi"}
    assert "/cases/1/" in mail.outbox[0].body  # the link to the page
    assert not OutboxEmail.objects.filter(sent_at__isnull=True).exists()
    assert deliver_outbox() == (0, 0)
    assert len(mail.outbox) == 2


def test_a_failing_smtp_server_loses_nothing(world, monkeypatch):
    tell(world.a.poc, "Important")

    def refuse(*args, **kwargs):
        raise SMTPException("451 try again later")

    monkeypatch.setattr(notifications_module, "send_mail", refuse)
    before = timezone.now()
    assert deliver_outbox() == (0, 1)
    row = OutboxEmail.objects.get()
    assert row.sent_at is None and row.attempts == 1
    assert row.send_after > before
    assert "451 try again later" in row.last_error
    assert mail.outbox == []
    assert deliver_outbox() == (0, 0)  # not due yet: backoff

    monkeypatch.undo()
    OutboxEmail.objects.update(send_after=timezone.now() - timedelta(seconds=1))  # time passes
    assert deliver_outbox() == (1, 0)
    row.refresh_from_db()
    assert row.sent_at is not None and row.attempts == 2
    assert [message.subject for message in mail.outbox] == ["Important"]


def test_customer_mail_goes_in_the_engagements_language(world):
    engagement = world.a.objects["engagement"]
    engagement.language = "ko"
    engagement.save()
    case = services.case_raise(
        acting_user=world.a.poc,
        engagement=engagement,
        kind="inquiry",
        severity=2,
        subject="Language check",
    )
    services.case_comment(acting_user=world.manager, case=case, body="Answer")
    to_customer = OutboxEmail.objects.get(to=world.a.poc.email)
    assert to_customer.language == "ko"
    to_manager = OutboxEmail.objects.filter(to=world.manager.email).first()
    assert to_manager is not None and to_manager.language == world.manager.language
