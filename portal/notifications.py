"""In-app notifications, sent at most once per dedupe key.

Callers name each notification with a key that identifies the event and the recipient
("overage:17:raised:4"); the unique key makes sending idempotent, so a job that runs twice, or
two jobs at once, never notify twice.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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


def notify(
    *, users: Iterable, kind: str, key: str, title: str, body: str = "", url: str = ""
) -> list[Notification]:
    """Notify each user once for `key`; returns only the notifications created now."""
    created = []
    for user in users:
        try:
            with transaction.atomic():
                created.append(
                    Notification.objects.create(
                        user=user,
                        kind=kind,
                        title=title,
                        body=body,
                        url=url,
                        dedupe_key=f"{key}:{user.pk}",
                    )
                )
        except IntegrityError:
            continue  # already sent
    return created


def provider_admins() -> models.QuerySet:
    from portal.accounts.models import User

    return User.objects.filter(is_active=True).filter(
        models.Q(kind=User.Kind.ADMIN) | models.Q(is_superuser=True)
    )
