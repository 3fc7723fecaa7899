"""Notifications the whole portal uses: in-app (read/unread) and e-mail through an outbox.

Each notification is named by a key that identifies the event and, with the recipient, makes
it unique: sending is idempotent, so a job that runs twice, or two jobs at once, never notify
twice. The e-mail is written to the outbox in the same transaction as the in-app notification
and delivered by a periodic task, so an SMTP outage delays mail and loses none.

Texts are rendered per recipient: customers read the engagement's language, staff their own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import get_connection, send_mail
from django.db import IntegrityError, models, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from portal.text import header_safe

logger = logging.getLogger(__name__)


class Notification(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("user"),
    )
    kind = models.CharField(_("kind"), max_length=60)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    dedupe_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        app_label = "portal"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread")]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self) -> str:
        return self.title


class OutboxEmail(models.Model):
    """An e-mail waiting to be sent (or sent). Delivery retries with backoff until it succeeds."""

    to = models.EmailField()
    subject = models.CharField(max_length=250)
    body = models.TextField()
    language = models.CharField(max_length=8, default="en")
    notification = models.OneToOneField(
        Notification, on_delete=models.SET_NULL, null=True, blank=True, related_name="email"
    )
    created_at = models.DateTimeField(default=timezone.now)
    send_after = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        app_label = "portal"
        indexes = [
            models.Index(
                fields=["send_after"],
                name="outbox_pending",
                condition=models.Q(sent_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.to}: {self.subject}"


def recipient_language(user: Any, engagement: Any | None) -> str:
    if engagement is not None and getattr(user, "is_customer", False):
        return engagement.language
    return getattr(user, "language", None) or settings.LANGUAGE_CODE


def _rendered(
    user: Any, engagement: Any | None, render: Callable[[], tuple[str, str]]
) -> tuple[str, str, str]:
    language = recipient_language(user, engagement)
    with translation.override(language):
        title, body = render()
        # The title is also the e-mail's Subject header: one line, whatever the record holds.
        return language, header_safe(title)[:200], str(body)


def _email_body(body: str, url: str) -> str:
    return f"{body}\n\n{settings.SITE_URL}{url}" if url else body


def notify_claimed(
    items: Iterable[tuple[Iterable[Any], str, str, Any, Callable[[], tuple[str, str]]]],
    *,
    kind: str,
) -> int:
    """Bulk-write notifications (and their e-mails) for events the caller has already claimed
    exclusively, e.g. with a unique row inserted in the same transaction; each item is
    (users, key, url, engagement, render). Returns how many notifications were written."""
    notifications: list[Notification] = []
    emails: list[tuple[int, OutboxEmail]] = []
    for users, key, url, engagement, render in items:
        seen: set[int] = set()
        for user in users:
            if user is None or user.pk in seen or not user.is_active:
                continue
            seen.add(user.pk)
            language, title, body = _rendered(user, engagement, render)
            notifications.append(
                Notification(
                    user=user,
                    kind=kind,
                    title=title,
                    body=body,
                    url=url,
                    dedupe_key=f"{key}:{user.pk}",
                )
            )
            emails.append(
                (
                    len(notifications) - 1,
                    OutboxEmail(
                        to=user.email, subject=title, body=_email_body(body, url), language=language
                    ),
                )
            )
    created = Notification.objects.bulk_create(notifications)
    for index, email in emails:
        email.notification_id = created[index].pk
    OutboxEmail.objects.bulk_create([email for _index, email in emails])
    return len(created)


def notify(
    *,
    users: Iterable[Any],
    kind: str,
    key: str,
    render: Callable[[], tuple[str, str]],
    url: str = "",
    engagement: Any | None = None,
    email: bool = True,
) -> list[Notification]:
    """Notify each user once for `key` (in-app and, unless told not to, by e-mail).

    `render()` returns (title, body) and is called in each recipient's language. Call inside the
    transaction that decides to notify: if it rolls back, nothing was sent. Returns only the
    notifications created now.
    """
    created = []
    seen: set[int] = set()
    for user in users:
        if user is None or user.pk in seen or not user.is_active:
            continue
        seen.add(user.pk)
        language, title, body = _rendered(user, engagement, render)
        try:
            with transaction.atomic():
                notification = Notification.objects.create(
                    user=user,
                    kind=kind,
                    title=title,
                    body=body,
                    url=url,
                    dedupe_key=f"{key}:{user.pk}",
                )
                if email:
                    OutboxEmail.objects.create(
                        to=user.email,
                        subject=title,
                        body=_email_body(body, url),
                        language=language,
                        notification=notification,
                    )
        except IntegrityError:
            continue  # already sent for this key
        created.append(notification)
    return created


def provider_admins() -> models.QuerySet:
    from portal.accounts.models import User

    return User.objects.filter(is_active=True).filter(
        models.Q(kind=User.Kind.ADMIN) | models.Q(is_superuser=True)
    )


MAX_BACKOFF = timedelta(hours=1)


def deliver_outbox(batch: int = 50) -> tuple[int, int]:
    """Send due e-mails; returns (sent, failed). Rows are claimed with SKIP LOCKED, so
    concurrent deliverers never send one twice; a failure is retried later with backoff."""
    sent = failed = 0
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            OutboxEmail.objects.select_for_update(skip_locked=True)
            .filter(sent_at__isnull=True, send_after__lte=now)
            .order_by("send_after", "id")[:batch]
        )
        if not rows:
            return 0, 0
        connection = get_connection()
        for row in rows:
            try:
                send_mail(header_safe(row.subject), row.body, None, [row.to], connection=connection)
            except Exception as exc:
                row.attempts += 1
                row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                row.send_after = now + min(timedelta(minutes=2**row.attempts), MAX_BACKOFF)
                row.save(update_fields=["attempts", "last_error", "send_after"])
                failed += 1
                logger.warning("E-mail to %s failed (attempt %d): %s", row.to, row.attempts, exc)
            else:
                row.sent_at = timezone.now()
                row.attempts += 1
                row.save(update_fields=["sent_at", "attempts"])
                sent += 1
    return sent, failed
