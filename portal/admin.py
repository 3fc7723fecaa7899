"""The Django admin's view of the notification outbox and the audit trail, for operators.

Both are read-only: the outbox changes only through portal.notifications (the "resend" action
calls `outbox_resend`), the audit trail never changes at all.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from portal.audit import AuditEntry
from portal.notifications import OutboxEmail, outbox_resend


class ReadOnlyAdmin(admin.ModelAdmin):
    """Lists and shows, never adds, edits or deletes: changes go through the services."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OutboxEmail)
class OutboxEmailAdmin(ReadOnlyAdmin):
    list_display = ("id", "to", "subject", "created_at", "send_after", "sent_at", "attempts")
    list_filter = (("sent_at", admin.EmptyFieldListFilter), "language")
    search_fields = ("to", "subject")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    readonly_fields = (
        "to",
        "subject",
        "body",
        "headers",
        "language",
        "notification",
        "created_at",
        "send_after",
        "sent_at",
        "attempts",
        "last_error",
    )
    actions = ("resend",)

    def has_resend_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("portal.change_outboxemail")

    @admin.action(description=_("Resend the selected e-mails"), permissions=("resend",))
    def resend(self, request: HttpRequest, queryset: QuerySet[OutboxEmail]) -> None:
        count = outbox_resend(queryset.values_list("pk", flat=True))
        self.message_user(
            request,
            ngettext(
                "%(count)d e-mail will be sent at the next outbox run.",
                "%(count)d e-mails will be sent at the next outbox run.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("at", "actor", "action", "object_type", "object_id", "organization_id")
    list_filter = ("action", "object_type")
    search_fields = ("action", "object_type", "object_id", "actor__email")
    list_select_related = ("actor",)
    date_hierarchy = "at"
    readonly_fields = (
        "at",
        "actor",
        "action",
        "object_type",
        "object_id",
        "organization_id",
        "before",
        "after",
    )
