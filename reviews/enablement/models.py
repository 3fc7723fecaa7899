"""The enablement (training) catalog: models."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TrainingResource(models.Model):
    """An entry of the self-paced enablement catalog (provider-wide, kept by admins)."""

    title = models.CharField(_("title"), max_length=200)
    url = models.URLField(_("link"), max_length=500)
    description = models.TextField(_("description"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("added by"),
    )
    created_at = models.DateTimeField(_("added"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["updated_at", "id"], name="training_updated")]
        ordering = ["title", "id"]
        verbose_name = _("training resource")
        verbose_name_plural = _("training resources")

    def __str__(self) -> str:
        return self.title
