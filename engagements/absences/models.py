"""Absences of service managers and who is responsible meanwhile: models."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Absence(models.Model):
    """A manager's time away: the deputy covers while it lasts. Provider-side, not tenant-owned."""

    class Kind(models.TextChoices):
        VACATION = "vacation", _("Vacation")
        SICK = "sick", _("Sick leave")
        TRAINING = "training", _("Internal training")

    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="absences",
        verbose_name=_("manager"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # When the manager was told what happened while away (cases.absences); set once, so the
    # summary goes out exactly once. Set at recording for an absence that had already ended.
    summarized_at = models.DateTimeField(_("summary sent"), null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="absence_ends_after_start"
            )
        ]
        indexes = [
            models.Index(fields=["updated_at", "id"], name="absence_updated"),
            models.Index(fields=["manager", "starts_at", "ends_at"], name="absence_span"),
            models.Index(
                fields=["ends_at"],
                name="absence_unsummarized",
                condition=Q(summarized_at__isnull=True),
            ),
        ]
        verbose_name = _("absence")
        verbose_name_plural = _("absences")

    def __str__(self) -> str:
        return f"{self.manager}: {self.get_kind_display()} {self.starts_at:%Y-%m-%d}"
