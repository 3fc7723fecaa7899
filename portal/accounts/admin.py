"""API tokens in the Django admin: listed, shown and revoked (through the service, audited),
never created or edited here: a token's secret is shown once, to its owner."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from portal.accounts.models import ApiToken
from portal.accounts.services import api_token_revoke
from portal.admin import ReadOnlyAdmin
from portal.http import AuthenticatedHttpRequest

TOKEN_FIELDS = (
    "name",
    "key_id",
    "user",
    "scopes",
    "created_at",
    "expires_at",
    "last_used_at",
    "revoked_at",
)


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = TOKEN_FIELDS
    list_filter = (("revoked_at", admin.EmptyFieldListFilter), "created_at")
    search_fields = ("name", "key_id", "user__email")
    list_select_related = ("user",)
    readonly_fields = TOKEN_FIELDS
    exclude = ("key_hash",)
    actions = ("revoke",)

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("accounts.change_apitoken")

    @admin.action(description=_("Revoke the selected tokens"), permissions=("revoke",))
    def revoke(self, request: AuthenticatedHttpRequest, queryset: QuerySet[ApiToken]) -> None:
        revoked = 0
        for token in queryset.filter(revoked_at__isnull=True).select_related("user"):
            api_token_revoke(token=token, acting_user=request.user)
            revoked += 1
        self.message_user(
            request,
            ngettext("%(count)d token revoked.", "%(count)d tokens revoked.", revoked)
            % {"count": revoked},
            messages.SUCCESS,
        )
