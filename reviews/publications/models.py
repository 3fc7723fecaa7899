"""Vendor news and roadmap announcements: models."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from engagements.entitlements import FunctionCode


class Publication(models.Model):
    """Vendor news or a roadmap/supportability announcement: provider-wide, not tenant-owned.

    `audience` is the service function it belongs to; it is shown to every engagement whose plan
    includes that function, computed when read, so a matrix change shows or hides it at once."""

    class Kind(models.TextChoices):
        NEWS = "news", _("Vendor news")
        ROADMAP = "roadmap", _("Roadmap and supportability")

    AUDIENCE = {
        Kind.NEWS: FunctionCode.VENDOR_SPOKESPERSON,
        Kind.ROADMAP: FunctionCode.PRODUCT_ROADMAP,
    }

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"))
    major = models.BooleanField(_("major announcement"), default=False)
    audience = models.CharField(_("service function"), max_length=60, editable=False)
    published_at = models.DateTimeField(_("published"), default=timezone.now)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("published by"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-published_at", "-id"]
        verbose_name = _("publication")
        verbose_name_plural = _("publications")
        indexes = [
            models.Index(fields=["updated_at", "id"], name="publication_updated"),
            models.Index(fields=["audience", "-published_at"], name="publication_audience"),
        ]

    def __str__(self) -> str:
        return self.title


class PublicationReceipt(models.Model):
    """A customer user has opened a publication. One per publication and person."""

    publication = models.ForeignKey(
        Publication,
        on_delete=models.CASCADE,
        related_name="receipts",
        verbose_name=_("publication"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("read by"),
    )
    read_at = models.DateTimeField(_("read"), default=timezone.now)

    class Meta:
        ordering = ["read_at", "id"]
        verbose_name = _("read receipt")
        verbose_name_plural = _("read receipts")
        constraints = [
            models.UniqueConstraint(fields=["publication", "user"], name="publication_read_once"),
        ]

    def __str__(self) -> str:
        return f"{self.publication_id} read by {self.user_id}"
