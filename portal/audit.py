"""One audit entry per state change: who, when, what, before and after."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.forms.models import model_to_dict
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("actor"),
    )
    action = models.CharField(_("action"), max_length=80)
    object_type = models.CharField(_("object type"), max_length=80)
    object_id = models.CharField(_("object id"), max_length=40)
    # the object's name when the change was made (it may be renamed or deleted since)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    organization_id = models.BigIntegerField(_("organization"), null=True, blank=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)

    class Meta:
        app_label = "portal"
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
            # /api/v1/audit-entries/?organization=: one tenant's trail, newest first
            models.Index(fields=["organization_id", "-id"], name="audit_organization"),
        ]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}#{self.object_id}"


def snapshot(instance: models.Model, exclude: tuple[str, ...] = ("password",)) -> dict[str, Any]:
    data = model_to_dict(instance, exclude=list(exclude))
    return {
        key: value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
        for key, value in data.items()
    }


def audit(
    *,
    actor: Any,
    action: str,
    instance: models.Model,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    organization_id: int | None = None,
) -> AuditEntry:
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        object_type=instance._meta.label_lower,
        object_id=str(instance.pk),
        object_repr=str(instance)[:200],
        organization_id=organization_id,
        before=before,
        after=after,
    )


def trail(
    model: type[models.Model], *, object_id: object = None, actions: tuple[str, ...] = ()
) -> models.QuerySet[AuditEntry]:
    """The audit entries of a model's objects (or of one), newest first, with their actors:
    one query however many entries are read."""
    entries = AuditEntry.objects.filter(object_type=model._meta.label_lower)
    if object_id is not None:
        entries = entries.filter(object_id=str(object_id))
    if actions:
        entries = entries.filter(action__in=actions)
    return entries.select_related("actor").order_by("-at", "-id")


def changed_fields(entry: AuditEntry) -> list[str]:
    """The names whose value differs between an entry's before and after (a creation: the
    names set to something; a removal: the names it had)."""
    before, after = entry.before or {}, entry.after or {}
    if entry.before is None:
        return [name for name, value in after.items() if value not in (None, "", [])]
    if entry.after is None:
        return [name for name, value in before.items() if value not in (None, "", [])]
    names = [*after, *(name for name in before if name not in after)]
    return [name for name in names if before.get(name) != after.get(name)]
