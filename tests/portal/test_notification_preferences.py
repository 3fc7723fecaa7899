"""Per-person notification preferences: the page and the API (own only, bad input answered 400),
the outbox obeying them (e-mails counted at a real SMTP server), and the daily digest, sent once
per person and local day even when two runs meet (PostgreSQL)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.urls import reverse

from portal.audit import AuditEntry
from portal.notification_preferences import digest as digest_module
from portal.notification_preferences.digest import send_digests
from portal.notification_preferences.models import NotificationDigest, NotificationPreference
from portal.notification_preferences.services import notification_preferences_set
from portal.notifications import Notification, OutboxEmail, deliver_outbox, notify
from tests.conftest import page_client, signed_in

pytestmark = pytest.mark.django_db
API = "/api/v1/me/notification-preferences/"


def tell(user, title, kind="case.comment"):
    return notify(
        users=[user],
        kind=kind,
        key=f"test:{kind}:{title}",
        url="/cases/1/",
        render=lambda: (title, f"Body of {title}"),
    )


def rows_by_kind(response):
    return {row["kind"]: row for row in response.json()["preferences"]}


def test_the_api_lists_the_kinds_that_reach_me_with_their_channels(world):
    customer = rows_by_kind(signed_in(world.a.poc).get(API))
    staff = rows_by_kind(signed_in(world.manager).get(API))
    assert customer["case.comment"] == {
        "kind": "case.comment",
        "label": "Reply on a case",
        "mandatory": False,
        "in_app": True,
        "email": True,
        "digest": False,
    }
    assert "case.resolved" in customer and "sla.breached" not in customer
    assert staff["sla.breached"]["mandatory"] and "case.resolved" not in staff
    world.a.poc.language = "ko"
    world.a.poc.save()
    korean = rows_by_kind(signed_in(world.a.poc).get(API))
    assert korean["case.comment"]["label"] == "케이스의 새 답글"


def test_patch_changes_only_my_own_and_is_audited_as_a_personal_preference(world):
    client = signed_in(world.a.poc)
    response = client.patch(
        API,
        {"preferences": [{"kind": "case.comment", "email": False, "digest": True}]},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert rows_by_kind(response)["case.comment"]["digest"] is True
    row = NotificationPreference.objects.get()
    assert (row.user, row.kind, row.in_app, row.email, row.digest) == (
        world.a.poc,
        "case.comment",
        True,
        False,
        True,
    )
    # another person's table is untouched, and nobody can name someone else's
    assert rows_by_kind(signed_in(world.a.member).get(API))["case.comment"]["email"] is True
    entry = AuditEntry.objects.get(action="notification_preferences.update")
    assert entry.actor == world.a.poc and entry.after == {"case.comment": ["in_app", "digest"]}
    admin = signed_in(world.admin)
    row = admin.get("/api/v1/audit-entries/", {"kind": "personal"}).json()["results"][0]
    assert row["summary"] == "Poc A changed their notification settings"
    assert not [
        r
        for r in admin.get("/api/v1/audit-entries/", {"kind": "configuration"}).json()["results"]
        if r["action"] == "notification_preferences.update"
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"preferences": [{"kind": "case.gossip", "email": False}]}, "case.gossip"),
        ({"preferences": [{"kind": "sla.breached", "email": False}]}, "sla.breached"),
        (
            {"preferences": [{"kind": "case.comment", "email": True, "digest": True}]},
            "case.comment",
        ),
    ],
)
def test_unknown_kinds_mandatory_kinds_and_both_e_mails_are_refused_whole(world, body, field):
    client = signed_in(world.a.poc if field != "sla.breached" else world.manager)
    body["preferences"].append({"kind": "case.comment", "in_app": False})
    response = client.patch(API, body, format="json")
    assert response.status_code == 400, response.content
    error = response.json()
    assert error["code"] == "validation_error" and field in error["fields"]
    assert not NotificationPreference.objects.exists()


def test_an_unknown_channel_or_a_non_boolean_is_a_400(world):
    client = signed_in(world.a.poc)
    for change in ({"kind": "case.comment", "sms": True}, {"kind": "case.comment", "email": "x"}):
        response = client.patch(API, {"preferences": [change]}, format="json")
        assert response.status_code == 400 and response.json()["code"] == "validation_error"
    response = client.patch(API, {"channels": []}, format="json")
    assert response.status_code == 400
    assert not NotificationPreference.objects.exists()
    assert signed_in(world.a.poc).put(API, {}, format="json").status_code == 405


def test_a_customer_cannot_set_a_staff_only_kind(world):
    response = signed_in(world.a.poc).patch(
        API, {"preferences": [{"kind": "case.raised", "email": False}]}, format="json"
    )
    assert response.status_code == 400 and "case.raised" in response.json()["fields"]


def test_the_page_shows_and_saves_the_table(world):
    client = page_client(world.manager)
    page = client.get(reverse("notification_preferences")).content.decode()
    assert "Reply on a case" in page and "Response objective breached" in page
    assert "Required: always in the portal and by e-mail." in page
    form = {"in_app:case.comment": "on", "email:case.comment": "none"}
    for row in signed_in(world.manager).get(API).json()["preferences"]:
        if row["kind"] != "case.comment" and not row["mandatory"]:
            form[f"email:{row['kind']}"] = "each"
            form[f"in_app:{row['kind']}"] = "on"
    # a forged mandatory field is ignored: the field is disabled
    form["email:sla.breached"] = "none"
    response = client.post(reverse("notification_preferences"), form)
    assert response.status_code == 302
    comment = NotificationPreference.objects.get(user=world.manager, kind="case.comment")
    assert (comment.in_app, comment.email, comment.digest) == (True, False, False)
    assert not NotificationPreference.objects.filter(kind="sla.breached").exists()
    form["email:case.comment"] = "sometimes"
    response = client.post(reverse("notification_preferences"), form)
    assert response.status_code == 200 and 'class="errorlist"' in response.content.decode()


def test_the_page_in_korean(world):
    world.a.poc.language = "ko"
    world.a.poc.save()
    page = page_client(world.a.poc).get(reverse("notification_preferences")).content.decode()
    assert "알림 설정" in page and "하루 한 번 요약" in page and "케이스의 새 답글" in page


def test_the_outbox_obeys_preferences_counted_at_the_smtp_server(world, smtp_sink):
    notification_preferences_set(
        acting_user=world.a.poc,
        changes=[
            {"kind": "case.comment", "email": False},
            {"kind": "case.resolved", "in_app": False},
        ],
    )
    tell(world.a.poc, "Muted reply", kind="case.comment")
    tell(world.a.poc, "Hidden resolution", kind="case.resolved")
    tell(world.a.member, "Member reply", kind="case.comment")
    tell(world.a.poc, "Unregistered kind", kind="test")
    assert deliver_outbox() == (3, 0)
    subjects = smtp_sink.subjects()
    assert subjects == {"Hidden resolution": 1, "Member reply": 1, "Unregistered kind": 1}
    page = page_client(world.a.poc).get(reverse("notifications")).content.decode()
    assert "Muted reply" in page and "Hidden resolution" not in page
    assert "nav-unread" in page  # the muted reply is unread; the hidden one counts for nothing
    hidden = Notification.objects.get(title="Hidden resolution")
    assert not hidden.in_app and hidden.read_at is not None
    # notifying again for the same key sends nothing more, e-mail or not
    tell(world.a.poc, "Hidden resolution", kind="case.resolved")
    assert deliver_outbox() == (0, 0)


def test_mandatory_kinds_reach_the_mailbox_whatever_is_stored(world, smtp_sink):
    NotificationPreference.objects.create(
        user=world.manager, kind="sla.breached", in_app=False, email=False
    )
    tell(world.manager, "Breached #1", kind="sla.breached")
    deliver_outbox()
    assert smtp_sink.subjects() == {"Breached #1": 1}


def test_the_digest_collects_and_goes_out_once_a_day_in_the_persons_zone(
    world, smtp_sink, settings
):
    settings.NOTIFICATION_DIGEST_HOUR = 8
    world.a.poc.time_zone = "Asia/Seoul"
    world.a.poc.save()
    notification_preferences_set(
        acting_user=world.a.poc, changes=[{"kind": "case.comment", "email": False, "digest": True}]
    )
    tell(world.a.poc, "First reply")
    tell(world.a.poc, "Second reply")
    deliver_outbox()
    assert smtp_sink.subjects() == {}  # nothing each time
    # 22:30 UTC is 07:30 in Seoul: not yet
    assert send_digests(datetime(2026, 12, 3, 22, 30, tzinfo=UTC)) == 0
    # 23:10 UTC is 08:10 in Seoul: today's digest
    assert send_digests(datetime(2026, 12, 3, 23, 10, tzinfo=UTC)) == 1
    tell(world.a.poc, "Third reply")
    assert send_digests(datetime(2026, 12, 3, 23, 40, tzinfo=UTC)) == 0  # once a day
    deliver_outbox()
    assert smtp_sink.subjects() == {"Your daily digest: 2 notifications": 1}
    body = smtp_sink.messages[0].get_payload(decode=True).decode()
    assert "First reply" in body and "Second reply" in body and "Third reply" not in body
    assert NotificationDigest.objects.get().count == 2
    # the next local day takes what came since
    assert send_digests(datetime(2026, 12, 4, 23, 5, tzinfo=UTC)) == 1
    deliver_outbox()
    assert smtp_sink.subjects()["Your daily digest: 1 notification"] == 1
    # the notifications stayed in the portal
    assert Notification.objects.filter(user=world.a.poc, in_app=True).count() == 3


def test_the_digest_is_in_the_persons_language(world, smtp_sink, settings):
    settings.NOTIFICATION_DIGEST_HOUR = 0
    world.a.member.language = "ko"
    world.a.member.save()
    notification_preferences_set(
        acting_user=world.a.member,
        changes=[{"kind": "case.comment", "email": False, "digest": True}],
    )
    tell(world.a.member, "답글")
    assert send_digests() == 1
    deliver_outbox()
    assert smtp_sink.subjects() == {"오늘의 알림 요약: 1건": 1}


@pytest.mark.django_db(transaction=True)
def test_two_digest_runs_at_once_send_one_digest(require_postgres, world, monkeypatch, settings):
    settings.NOTIFICATION_DIGEST_HOUR = 0
    notification_preferences_set(
        acting_user=world.a.poc, changes=[{"kind": "case.comment", "email": False, "digest": True}]
    )
    for n in range(3):
        tell(world.a.poc, f"Reply {n}")
    original = digest_module._digest_text

    def slow_text(*args, **kwargs):
        time.sleep(0.3)  # hold the first run's claim open while the second arrives
        return original(*args, **kwargs)

    monkeypatch.setattr(digest_module, "_digest_text", slow_text)
    barrier = threading.Barrier(2)
    results: list[int] = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(send_digests())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == [0, 1]
    assert NotificationDigest.objects.count() == 1
    assert OutboxEmail.objects.filter(subject__startswith="Your daily digest").count() == 1
    assert not Notification.objects.filter(awaiting_digest=True).exists()
