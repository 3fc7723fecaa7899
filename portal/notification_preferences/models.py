"""A person's choice for one kind of notification, and the digests sent."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class NotificationPreference(models.Model):
    """No row: the default (in the portal and by e-mail each time)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preferences",
        verbose_name=_("user"),
    )
    kind = models.CharField(_("kind"), max_length=60)
    in_app = models.BooleanField(_("in the portal"), default=True)
    email = models.BooleanField(_("e-mail each time"), default=True)
    digest = models.BooleanField(_("daily digest"), default=False)
    updated_at = models.DateTimeField(_("changed"), auto_now=True)

    class Meta:
        app_label = "portal"
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notification_preference_once"),
            models.CheckConstraint(
                condition=~(models.Q(email=True) & models.Q(digest=True)),
                name="notification_preference_email_or_digest",
            ),
        ]
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}"


class NotificationDigest(models.Model):
    """One row per person and local day a digest went out: the unique key that makes the daily
    digest exactly once, whichever worker and however many run at once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_digests",
        verbose_name=_("user"),
    )
    day = models.DateField(_("day"))
    sent_at = models.DateTimeField(_("sent"), auto_now_add=True)
    count = models.PositiveIntegerField(_("notifications"), default=0)

    class Meta:
        app_label = "portal"
        constraints = [
            models.UniqueConstraint(fields=["user", "day"], name="notification_digest_once_a_day")
        ]
        verbose_name = _("notification digest")
        verbose_name_plural = _("notification digests")

    def __str__(self) -> str:
        return f"{self.user_id} {self.day}"
