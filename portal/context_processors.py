"""Navigation by role, for the base layout."""

from contextlib import suppress
from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = [(_("Dashboard"), reverse("dashboard"))]
    items.append((_("Engagements"), reverse("engagement_list")))
    items.append((_("Organizations"), reverse("organization_list")))
    items.append((_("People"), reverse("people_list")))
    if user.is_provider_staff:
        items.append((_("Absences"), reverse("absence_list")))
    if user.is_provider_admin:
        with suppress(NoReverseMatch):  # until the catalog pages exist
            items.append((_("Catalog"), reverse("catalog_matrix")))
        items.append((_("Audit log"), reverse("audit_log")))
    items.append((_("API tokens"), reverse("api_tokens")))
    path = request.path
    return {
        "nav_items": [
            {
                "label": label,
                "url": url,
                "active": path == url or (url != "/" and path.startswith(url)),
            }
            for label, url in items
        ]
    }
