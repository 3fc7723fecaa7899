"""Maintenance windows (service function `maintenance_planning`): pages."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from engagements.contracts.models import Engagement
from engagements.entitlements import FunctionCode, entitled_page
from engagements.selectors import serves
from portal.accounts.models import User
from portal.errors import DomainError
from portal.http import AuthenticatedHttpRequest
from portal.pages import apply_domain_error, get_scoped_or_404, status_change
from reviews.maintenance import services
from reviews.maintenance.forms import MaintenanceStatusForm, MaintenanceWindowForm
from reviews.maintenance.models import MaintenanceWindow
from reviews.maintenance.selectors import annotate_conflicts

PAST_LIMIT = 50


MAINTENANCE_NEXT = {
    MaintenanceWindow.Status.PLANNED: [
        MaintenanceWindow.Status.CONFIRMED,
        MaintenanceWindow.Status.DONE,
        MaintenanceWindow.Status.CANCELLED,
    ],
    MaintenanceWindow.Status.CONFIRMED: [
        MaintenanceWindow.Status.DONE,
        MaintenanceWindow.Status.CANCELLED,
    ],
}


def status_choices(nexts: dict, status: str, labels: dict) -> list[tuple[str, str]]:
    return [(value, labels[value]) for value in nexts.get(status, [])]


@login_required
@require_http_methods(["GET", "POST"])
@entitled_page(FunctionCode.MAINTENANCE)
def maintenance_list(request: AuthenticatedHttpRequest, engagement: Engagement) -> HttpResponse:
    """The engagement's maintenance windows, flagged when they conflict; its staff plan new
    ones here."""
    user: User = request.user
    staff = serves(user, engagement)
    if request.method == "POST" and not staff:
        raise PermissionDenied
    form = MaintenanceWindowForm(request.POST or None) if staff else None
    if form is not None and request.method == "POST" and form.is_valid():
        try:
            window = services.maintenance_plan(
                acting_user=user, engagement=engagement, **form.cleaned_data
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("Maintenance window planned; the contacts were notified."))
            return redirect(f"{request.path}#window-{window.pk}")
    now = timezone.now()
    windows = MaintenanceWindow.objects.filter(engagement=engagement).select_related(
        "engagement", "created_by"
    )
    upcoming = list(windows.filter(ends_at__gt=now).order_by("starts_at", "id"))
    past = list(windows.filter(ends_at__lte=now).order_by("-starts_at", "-id")[:PAST_LIMIT])
    annotate_conflicts(upcoming + past)
    labels = dict(MaintenanceWindow.Status.choices)
    for window in upcoming + past:
        window.next_statuses = status_choices(MAINTENANCE_NEXT, window.status, labels)
    return render(
        request,
        "reviews/maintenance/maintenance_list.html",
        {
            "engagement": engagement,
            "staff": staff,
            "form": form,
            "upcoming": upcoming,
            "past": past,
        },
    )


def _staff_window(
    request: AuthenticatedHttpRequest, engagement: Engagement, window_pk: int
) -> MaintenanceWindow:
    window = get_scoped_or_404(MaintenanceWindow, pk=window_pk, engagement=engagement)
    if not serves(request.user, engagement):
        raise PermissionDenied
    return window


@login_required
@require_http_methods(["GET", "POST"])
@entitled_page(FunctionCode.MAINTENANCE)
def maintenance_edit(
    request: AuthenticatedHttpRequest, engagement: Engagement, window_pk: int
) -> HttpResponse:
    window = _staff_window(request, engagement, window_pk)
    initial = {
        name: getattr(window, name)
        for name in ("title", "starts_at", "ends_at", "systems_affected", "expected_impact")
    }
    form = MaintenanceWindowForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.maintenance_update(
                acting_user=request.user, window=window, **form.cleaned_data
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("Maintenance window saved."))
            return redirect(_maintenance_url(engagement, window))
    return render(
        request,
        "reviews/maintenance/maintenance_edit.html",
        {"engagement": engagement, "window": window, "form": form},
    )


def _maintenance_url(engagement: Engagement, window: MaintenanceWindow) -> str:
    return reverse("maintenance_list", args=[engagement.pk]) + f"#window-{window.pk}"


@login_required
@require_POST
@entitled_page(FunctionCode.MAINTENANCE)
def maintenance_status(
    request: AuthenticatedHttpRequest, engagement: Engagement, window_pk: int
) -> HttpResponse:
    window = _staff_window(request, engagement, window_pk)
    return status_change(
        request,
        MaintenanceStatusForm(request.POST),
        lambda status: services.maintenance_update_status(
            acting_user=request.user, window=window, status=status
        ),
        redirect_to=_maintenance_url(engagement, window),
    )
