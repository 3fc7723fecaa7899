"""Tombstones: what was deleted, so integrations that sync with `updated_after` learn of it.

A service that deletes (or ends) an object the API lists calls `deletion_record` in the same
transaction, so the row and its tombstone go together. `/api/v1/deletions/` lists them.
Who sees a tombstone is who could see the object: a customer their organization's (and the
catalog's `public` ones), a manager their engagements' and the provider-wide ones (absences),
an admin all.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.tenancy.scoping import (
    TenantManager,
    TenantOwned,
    UnscopedQuerySet,
    get_scope_or_none,
)


class DeletionManager(TenantManager):
    """TenantManager's rule, plus the tombstones of objects that belong to no organization."""

    def get_queryset(self) -> models.QuerySet:
        scope = get_scope_or_none()
        if scope is None:
            return UnscopedQuerySet(model=self.model, using=self._db, hints=self._hints)
        rows: models.QuerySet = models.QuerySet(model=self.model, using=self._db, hints=self._hints)
        if scope.everything:
            return rows
        public = Q(organization_id__isnull=True, public=True)
        if scope.is_customer:
            return rows.filter(Q(organization_id__in=scope.organization_ids) | public)
        provider_wide = Q(organization_id__isnull=True, engagement_id__isnull=True)
        return rows.filter(Q(engagement_id__in=scope.engagement_ids) | provider_wide | public)


class Deletion(TenantOwned):
    """One deleted object: its API type (`absence`, `time-entry`, ...) and id."""

    type = models.CharField(_("type"), max_length=40)
    object_id = models.BigIntegerField(_("object id"))
    organization_id = models.BigIntegerField(_("organization"), null=True, blank=True)
    engagement_id = models.BigIntegerField(_("engagement"), null=True, blank=True)
    # Seen by everyone signed in (a catalog entry): no organization to scope it by.
    public = models.BooleanField(_("public"), default=False)
    deleted_at = models.DateTimeField(_("deleted"), default=timezone.now)

    # Tombstones sync like every other resource, by `updated_after` (portal.api.sync).
    sync_field = "deleted_at"
    tenant_path = "organization_id"
    tenant_engagement_path = "engagement_id"
    objects = DeletionManager()  # type: ignore[misc]  # TenantManager's scoping, widened

    class Meta:
        app_label = "portal"
        ordering = ["deleted_at", "id"]
        indexes = [models.Index(fields=["deleted_at", "id"], name="deletion_sync")]
        verbose_name = _("deletion")
        verbose_name_plural = _("deletions")

    def __str__(self) -> str:
        return f"{self.type}#{self.object_id}"


def deletion_record(
    *,
    object_type: str,
    object_id: int,
    organization_id: int | None = None,
    engagement_id: int | None = None,
    public: bool = False,
) -> Deletion:
    """Record that an object is gone; call inside the deleting transaction."""
    return Deletion.objects.create(
        type=object_type,
        object_id=object_id,
        organization_id=organization_id,
        engagement_id=engagement_id,
        public=public,
    )
