"""The signed-in user's in-app notifications: the list, marking one or all read.

Notifications belong to one user: anyone else's answers 404, exactly like a missing one.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from portal.http import AuthenticatedHttpRequest
from portal.notifications import Notification

PAGE_SIZE = 30


def _local_path(url: str) -> bool:
    """Only links into the portal itself are followed."""
    return url.startswith("/") and url_has_allowed_host_and_scheme(url, allowed_hosts=None)


@login_required
@require_GET
def notifications(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Newest first; unread ones stand out. One query for the page (plus its count)."""
    mine = Notification.objects.filter(user=request.user, in_app=True)
    page = Paginator(mine, PAGE_SIZE).get_page(request.GET.get("page"))
    has_unread = mine.filter(read_at__isnull=True).exists()
    return render(request, "notifications.html", {"page": page, "has_unread": has_unread})


@login_required
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one read; with `open`, follow its link."""
    notification = get_object_or_404(Notification, pk=pk, user=request.user)
    if notification.read_at is None:
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=timezone.now()
        )
    if request.POST.get("open") and notification.url and _local_path(notification.url):
        return redirect(notification.url)
    return redirect("notifications")


@login_required
@require_POST
def notifications_read_all(request: AuthenticatedHttpRequest) -> HttpResponse:
    count = Notification.objects.filter(user=request.user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    if count:
        messages.success(
            request,
            ngettext(
                "%(count)d notification marked read.", "%(count)d notifications marked read.", count
            )
            % {"count": count},
        )
    return redirect("notifications")
