"""Notifications the whole portal uses: in-app (read/unread) and e-mail through an outbox.

Each notification is named by a key that identifies the event and, with the recipient, makes
it unique: sending is idempotent, so a job that runs twice, or two jobs at once, never notify
twice. The e-mail is written to the outbox in the same transaction as the in-app notification
and delivered by a periodic task, so an SMTP outage delays mail and loses none.

Texts are rendered in every language of the portal and kept with the notification, so the
in-app list shows each one in the reader's current language (`display_title`), whatever it was
when it was sent. The e-mail goes in the recipient's language (`recipient_language`).
"""

from __future__ import annotations

import contextlib
import logging
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from portal.notification_preferences.selectors import DEFAULT as DEFAULT_CHANNELS
from portal.notification_preferences.selectors import Channels, channels_for
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
    # {language: [title, body]} for every language of settings.LANGUAGES; `title` and `body`
    # hold the text in the recipient's language at send time (what the e-mail said).
    texts = models.JSONField(_("texts"), default=dict, blank=True)
    # The recipient's preferences when it was sent: shown in the portal, or only kept (as the
    # key that makes sending idempotent, and for the digest); waiting for the daily digest.
    in_app = models.BooleanField(_("in the portal"), default=True)
    awaiting_digest = models.BooleanField(_("awaiting the digest"), default=False)

    class Meta:
        app_label = "portal"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "read_at"], name="notification_unread"),
            models.Index(
                fields=["user"],
                name="notification_digest_due",
                condition=models.Q(awaiting_digest=True),
            ),
        ]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self) -> str:
        return self.display_title

    def _text(self, language: str | None = None) -> tuple[str, str]:
        language = (language or translation.get_language() or settings.LANGUAGE_CODE).split("-")[0]
        text = (self.texts or {}).get(language)
        if isinstance(text, list) and len(text) == 2:
            return str(text[0]), str(text[1])
        return self.title, self.body

    @property
    def display_title(self) -> str:
        """The title in the active language (the reader's), else as it was sent."""
        return self._text()[0]

    @property
    def display_body(self) -> str:
        return self._text()[1]


class OutboxEmail(models.Model):
    """An e-mail waiting to be sent (or sent). Delivery retries with backoff until it succeeds.

    A deliverer claims due rows for a while (`claimed_until`, under its `claim_token`) in a
    committed step of its own, so they are not sent by another deliverer meanwhile; a claim
    whose deliverer died expires and the rows are claimed again."""

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
    claimed_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    # Extra headers set by whoever queued it ({name: value}): threading (Message-ID,
    # In-Reply-To, References) and Reply-To. Fixed when queued, so a retry carries the same
    # Message-ID; only the names of EMAIL_HEADERS are sent (see `safe_headers`).
    headers = models.JSONField(default=dict, blank=True)

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


# The headers a caller may set on an outbox e-mail; everything else (From, To, Subject, the MIME
# headers) is the deliverer's.
EMAIL_HEADERS = ("Reply-To", "Message-ID", "In-Reply-To", "References", "Auto-Submitted")
_HEADER_NAMES = {name.lower(): name for name in EMAIL_HEADERS}
_MSG_IDS = re.compile(r"<[^<>\s]+@[^<>\s]+>")


def safe_headers(headers: Any) -> dict[str, str]:
    """The caller's headers as they may be sent: known names only, each value on one line
    (no CR/LF can start a header of its own), message ids reduced to `<…@…>` tokens."""
    safe: dict[str, str] = {}
    if not isinstance(headers, dict):
        return safe
    for name, value in headers.items():
        canonical = _HEADER_NAMES.get(str(name).lower())
        if canonical is None or not isinstance(value, str):
            continue
        value = header_safe(value)
        if canonical in ("Message-ID", "In-Reply-To", "References"):
            ids = _MSG_IDS.findall(value)
            value = ids[0] if ids and canonical != "References" else " ".join(ids)
        if canonical == "Auto-Submitted" and value not in ("auto-replied", "auto-generated"):
            continue  # RFC 3834's values only
        if value:
            safe[canonical] = value[:998]
    return safe


@dataclass(frozen=True)
class MailThread:
    """Where a notification's e-mails belong in the recipient's mail client: a subject prefix
    (`[#12]`) and the headers of each e-mail, made once per e-mail when it is queued (so each
    has its own Message-ID, the same at every retry)."""

    subject_prefix: str = ""
    headers: Callable[[], dict[str, str]] = field(default=dict)

    def subject(self, title: str) -> str:
        if not self.subject_prefix or self.subject_prefix in title:
            return title
        return header_safe(f"{self.subject_prefix} {title}")[:250]


def recipient_language(user: Any, engagement: Any | None) -> str:
    """The language of what a person is sent: their own, when they have chosen one; a customer
    who kept the portal's default reads the engagement's agreed language (SPEC §4)."""
    own = getattr(user, "language", None) or ""
    if (
        engagement is not None
        and getattr(user, "is_customer", False)
        and own in ("", settings.LANGUAGE_CODE)
    ):
        return engagement.language or settings.LANGUAGE_CODE
    return own or settings.LANGUAGE_CODE


class _Texts:
    """`render()` called once per language (not per recipient), each in its language."""

    def __init__(self, render: Callable[[], tuple[str, str]]) -> None:
        self.render = render
        self.by_language: dict[str, tuple[str, str]] = {}

    def __call__(self, language: str) -> tuple[str, str]:
        if language not in self.by_language:
            with translation.override(language):
                title, body = self.render()
                # The title is also the e-mail's Subject header: one line, whatever it holds.
                self.by_language[language] = (header_safe(str(title))[:200], str(body))
        return self.by_language[language]

    def all(self) -> dict[str, list[str]]:
        return {code: list(self(code)) for code, _name in settings.LANGUAGES}


def _rendered(user: Any, engagement: Any | None, texts: _Texts) -> tuple[str, str, str]:
    language = recipient_language(user, engagement)
    title, body = texts(language)
    return language, title, body


def _email_body(body: str, url: str) -> str:
    return f"{body}\n\n{settings.SITE_URL}{url}" if url else body


def _channels(kind: str, users: Iterable[Any]) -> dict[int, Channels]:
    return channels_for(kind, [user.pk for user in users if user is not None])


def _notification(user: Any, channels: Channels, *, email: bool, **fields: Any) -> Notification:
    """A notification as the recipient's preferences want it: one they do not want in the portal
    is kept read and hidden (its key still makes sending idempotent); one for the digest waits."""
    return Notification(
        user=user,
        in_app=channels.in_app,
        read_at=None if channels.in_app else timezone.now(),
        awaiting_digest=email and channels.digest and not channels.email,
        **fields,
    )


def notify_claimed(
    items: Iterable[tuple[Any, ...]],
    *,
    kind: str,
) -> int:
    """Bulk-write notifications (and their e-mails) for events the caller has already claimed
    exclusively, e.g. with a unique row inserted in the same transaction; each item is
    (users, key, url, engagement, render) or (users, key, url, engagement, render, thread), the
    MailThread the e-mails belong to. Returns how many notifications were written."""
    notifications: list[Notification] = []
    emails: list[tuple[int, OutboxEmail]] = []
    items = [(list(users), *rest) for users, *rest in items]
    preferences = _channels(kind, [user for item in items for user in item[0]])
    for users, key, url, engagement, render, *more in items:
        thread: MailThread | None = more[0] if more else None
        seen: set[int] = set()
        texts = _Texts(render)
        for user in users:
            if user is None or user.pk in seen or not user.is_active:
                continue
            seen.add(user.pk)
            channels = preferences.get(user.pk, DEFAULT_CHANNELS)
            language, title, body = _rendered(user, engagement, texts)
            notifications.append(
                _notification(
                    user,
                    channels,
                    email=True,
                    kind=kind,
                    title=title,
                    body=body,
                    texts=texts.all(),
                    url=url,
                    dedupe_key=f"{key}:{user.pk}",
                )
            )
            if not channels.email:
                continue
            emails.append(
                (
                    len(notifications) - 1,
                    OutboxEmail(
                        to=user.email,
                        subject=thread.subject(title) if thread else title,
                        body=_email_body(body, url),
                        language=language,
                        headers=thread.headers() if thread else {},
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
    thread: MailThread | None = None,
) -> list[Notification]:
    """Notify each user once for `key` (in-app and, unless told not to, by e-mail), as each
    one's preferences for `kind` want it (portal.notification_preferences). The e-mails belong
    to `thread` when given (subject prefix, Reply-To and threading headers).

    `render()` returns (title, body) and is called once in each language of the portal (all are
    kept, for the in-app list; the e-mail is in the recipient's). Call inside the transaction that
    decides to notify: if it rolls back, nothing was sent. Returns only the notifications created
    now.
    """
    created = []
    seen: set[int] = set()
    texts = _Texts(render)
    users = list(users)
    preferences = _channels(kind, users)
    for user in users:
        if user is None or user.pk in seen or not user.is_active:
            continue
        seen.add(user.pk)
        channels = preferences.get(user.pk, DEFAULT_CHANNELS)
        language, title, body = _rendered(user, engagement, texts)
        try:
            with transaction.atomic():
                notification = _notification(
                    user,
                    channels,
                    email=email,
                    kind=kind,
                    title=title,
                    body=body,
                    texts=texts.all(),
                    url=url,
                    dedupe_key=f"{key}:{user.pk}",
                )
                notification.save(force_insert=True)
                if email and channels.email:
                    OutboxEmail.objects.create(
                        to=user.email,
                        subject=thread.subject(title) if thread else title,
                        body=_email_body(body, url),
                        language=language,
                        notification=notification,
                        headers=thread.headers() if thread else {},
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


def queue_email(
    *, to: str, subject: str, body: str, language: str, headers: dict[str, str] | None = None
) -> OutboxEmail:
    """Put an e-mail that belongs to no notification (a welcome, say) in the outbox. Call inside
    the transaction that decides to send it: if that rolls back, nothing is sent. `headers`: see
    `safe_headers`."""
    return OutboxEmail.objects.create(
        to=to, subject=subject, body=body, language=language, headers=headers or {}
    )


def _claim(batch: int, now: datetime) -> tuple[str, list[OutboxEmail]]:
    """Claim up to `batch` due, unclaimed (or expired) rows for the lease, and commit the claim.

    PostgreSQL: the rows are picked FOR UPDATE SKIP LOCKED, so a concurrent deliverer takes
    others instead of waiting. SQLite has no row locks: its transactions take the write lock up
    front, and the UPDATE repeats the conditions, so a row is claimed by one deliverer only."""
    token = uuid.uuid4().hex
    free = models.Q(claimed_until__isnull=True) | models.Q(claimed_until__lte=now)
    due = OutboxEmail.objects.filter(free, sent_at__isnull=True, send_after__lte=now)
    with transaction.atomic():
        picked = due.order_by("send_after", "id")
        if connection.features.has_select_for_update_skip_locked:
            picked = picked.select_for_update(skip_locked=True)
        ids = list(picked.values_list("id", flat=True)[:batch])
        if not ids:
            return token, []
        due.filter(pk__in=ids).update(
            claimed_until=now + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS),
            claim_token=token,
        )
    rows = list(OutboxEmail.objects.filter(claim_token=token).order_by("send_after", "id"))
    return token, rows


def _release(token: str, rows: Iterable[OutboxEmail]) -> None:
    """Give back claimed rows this run did not get to: the next run takes them at once."""
    OutboxEmail.objects.filter(
        pk__in=[row.pk for row in rows], claim_token=token, sent_at__isnull=True
    ).update(claimed_until=None, claim_token="")


def send_mail(
    subject: str,
    body: str,
    from_email: str | None,
    recipients: list[str],
    *,
    connection: Any,
    headers: dict[str, str] | None = None,
) -> int:
    """Send one message with its extra headers over `connection` (django's send_mail, which
    takes no headers); returns how many were sent."""
    return EmailMessage(
        subject, body, from_email, recipients, connection=connection, headers=headers or {}
    ).send()


def deliver_outbox(batch: int | None = None) -> tuple[int, int]:
    """Send due e-mails; returns (sent, failed).

    Delivery is effectively once: the rows are claimed in a committed step of their own (see
    `_claim`), then each message is sent and marked sent in its own short transaction, so a
    deliverer killed mid-run leaves at most the one message in flight to be sent again (when its
    claim has expired), never a batch. A message is only started while the claim still covers
    the SMTP timeout (plus a second), so a claim does not run out under a message being sent
    unless the server stalls on several steps of one message; the rest of the batch is then
    given back for the next run. A failure is retried later with backoff, its error kept in
    `last_error`."""
    from celery.exceptions import SoftTimeLimitExceeded

    batch = batch or settings.OUTBOX_BATCH_SIZE
    sent = failed = 0
    token, rows = _claim(batch, timezone.now())
    if not rows:
        return 0, 0
    smtp = get_connection()
    margin = timedelta(seconds=(getattr(smtp, "timeout", None) or 0) + 1)
    with contextlib.suppress(Exception):
        smtp.open()  # one session for the batch; when it fails, each send says why
    try:
        for position, row in enumerate(rows):
            now = timezone.now()
            if row.claimed_until is None or now + margin >= row.claimed_until:
                _release(token, rows[position:])
                break
            mine = OutboxEmail.objects.filter(pk=row.pk, claim_token=token, sent_at__isnull=True)
            try:
                send_mail(
                    header_safe(row.subject),
                    row.body,
                    None,
                    [row.to],
                    connection=smtp,
                    headers=safe_headers(row.headers),
                )
            except SoftTimeLimitExceeded:
                _release(token, rows[position:])
                raise
            except Exception as exc:
                with contextlib.suppress(Exception):
                    smtp.close()  # a broken session: the next message opens a new one
                attempts = row.attempts + 1
                mine.update(
                    attempts=attempts,
                    last_error=f"{type(exc).__name__}: {exc}"[:2000],
                    send_after=now + min(timedelta(minutes=2**attempts), MAX_BACKOFF),
                    claimed_until=None,
                    claim_token="",
                )
                failed += 1
                logger.warning("E-mail to %s failed (attempt %d): %s", row.to, attempts, exc)
            else:
                if not mine.update(
                    sent_at=timezone.now(),
                    attempts=row.attempts + 1,
                    claimed_until=None,
                    claim_token="",
                ):
                    logger.warning("E-mail %s was sent after its claim had expired", row.pk)
                sent += 1
    finally:
        with contextlib.suppress(Exception):
            smtp.close()
    return sent, failed


def outbox_resend(email_ids: Iterable[int]) -> int:
    """Put these outbox e-mails up for delivery again at the next run of deliver_outbox: a failed
    one is retried at once instead of after its backoff, a sent one is sent once more (an
    operator's choice in the admin, e.g. after a mailbox bounced). One a deliverer is sending
    right now (a live claim) is left to it. Returns how many were reset."""
    now = timezone.now()
    free = models.Q(claimed_until__isnull=True) | models.Q(claimed_until__lte=now)
    return (
        OutboxEmail.objects.filter(pk__in=list(email_ids))
        .filter(free)
        .update(
            sent_at=None,
            send_after=now,
            attempts=0,
            last_error="",
            claimed_until=None,
            claim_token="",
        )
    )
