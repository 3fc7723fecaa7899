"""Navigation by role, for the base layout."""

from collections.abc import Callable
from contextlib import suppress
from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.functional import SimpleLazyObject
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from portal.notifications import Notification
from portal.tenancy.scoping import count_compiled_once


def badge_slot(slot: str, badge: str, *, oob: bool = False) -> str:
    """Where a navigation badge goes: there even when empty, so the live poll
    (`portal.live.nav_badges`) can fill or empty it out of band."""
    return format_html(
        '<span id="nav-badge-{}" class="nav-badge"{}>{}</span>',
        slot,
        SafeString(' hx-swap-oob="true"') if oob else "",
        badge,
    )


def unread_badge(user: Any) -> str:
    """The unread count as a badge (empty when none): one indexed count query."""
    unread = count_compiled_once(  # on every page: compiled once
        f"notifications.unread:{user.pk}",
        lambda _values: Notification.objects.filter(user=user, read_at__isnull=True),
        [],
    )
    if not unread:
        return ""
    return format_html(
        '<span class="badge badge-alert nav-unread"><span aria-hidden="true">{}</span>'
        '<span class="visually-hidden">{}</span></span>',
        unread,
        ngettext("%(count)d unread", "%(count)d unread", unread) % {"count": unread},
    )


def _notifications_label(user: Any) -> str:
    """ "Notifications" with the unread count as a badge."""
    return format_html("{} {}", _("Notifications"), badge_slot("notifications", unread_badge(user)))


# Staff links whose label carries a count, registered by the app that owns the page (the kernel
# imports no app): url name -> (label, count of the signed-in user). See `register_nav_count`.
NAV_COUNTS: dict[str, tuple[Any, Callable[[Any], int]]] = {}


def register_nav_count(url_name: str, label: Any, count: Callable[[Any], int]) -> None:
    """Show `url_name` to provider staff in the navigation, after the board, as `label` with a
    badge of `count(user)` (one cheap query, run only when the layout shows the navigation)."""
    NAV_COUNTS[url_name] = (label, count)


# A badge shows counts up to this and "999+" above it; a count function may stop counting at
# NAV_COUNT_MAX + 1 (`count_compiled_once(..., at_most=...)`), so an admin's badge over every
# engagement's items costs the same as a manager's (issue 17).
NAV_COUNT_MAX = 999


def count_badge(count: int) -> str:
    """A staff link's count as a badge (empty when nothing counts; "999+" past
    `NAV_COUNT_MAX`)."""
    if not count:
        return ""
    if count > NAV_COUNT_MAX:
        return format_html(
            '<span class="badge badge-warn nav-count"><span aria-hidden="true">{}+</span>'
            '<span class="visually-hidden">{}</span></span>',
            NAV_COUNT_MAX,
            _("More than %(count)d items") % {"count": NAV_COUNT_MAX},
        )
    return format_html(
        '<span class="badge badge-warn nav-count"><span aria-hidden="true">{}</span>'
        '<span class="visually-hidden">{}</span></span>',
        count,
        ngettext("%(count)d item", "%(count)d items", count) % {"count": count},
    )


def _counted(
    label: Any, url_name: str, count: Callable[[Any], int], user: Any
) -> Callable[[], str]:
    return lambda: format_html("{} {}", label, badge_slot(url_name, count_badge(count(user))))


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items: list[tuple[object, str]] = []  # labels: text, lazy text, a lazy count
    if not user.is_service_manager:  # a manager's dashboard is the board
        items.append((_("Dashboard"), reverse("dashboard")))
    if user.is_provider_staff:
        items.append((_("Board"), reverse("weekly_board")))
        for url_name, (label, count) in NAV_COUNTS.items():
            items.append(
                (SimpleLazyObject(_counted(label, url_name, count, user)), reverse(url_name))
            )
    items.append((_("Engagements"), reverse("engagement_list")))
    items.append((_("Cases"), reverse("case_list")))
    items.append((_("Sessions"), reverse("occurrence_list")))
    items.append((_("Organizations"), reverse("organization_list")))
    items.append((_("People"), reverse("people_list")))
    if user.is_provider_staff:
        items.append((_("Absences"), reverse("absence_list")))
    if user.is_provider_admin:
        with suppress(NoReverseMatch):  # until the catalog pages exist
            items.append((_("Catalog"), reverse("catalog_matrix")))
        items.append((_("Audit log"), reverse("audit_log")))
    items.append((_("API tokens"), reverse("api_tokens")))
    # Counted only when the layout shows the navigation (not for fragments).
    items.append((SimpleLazyObject(lambda: _notifications_label(user)), reverse("notifications")))
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
