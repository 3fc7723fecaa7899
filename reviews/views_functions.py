"""Pages of the maintenance and release-management service functions, per engagement.

Everyone who sees the engagement reads its maintenance windows and changes; its manager, deputy
and admins plan and edit them; named contacts acknowledge changes. The engagement and each row
are fetched through the request's tenant scope first (another tenant's answers 404 like a
missing one); an engagement whose plan lacks the function answers the 403 page naming it, and
links to these pages are hidden for it. Each page issues a constant number of queries.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from engagements.entitlements import FunctionCode, entitled_page
from engagements.models import Contact, Engagement
from portal.accounts.models import User
from portal.errors import DomainError
from portal.http import AuthenticatedHttpRequest
from portal.pages import apply_domain_error, error_text, get_scoped_or_404, refused
from reviews import services_functions as services
from reviews.forms_functions import (
    ChangeItemForm,
    ChangeStatusForm,
    MaintenanceStatusForm,
    MaintenanceWindowForm,
)
from reviews.models import ChangeAcknowledgement, ChangeItem, MaintenanceWindow
from reviews.selectors_functions import annotate_conflicts
from reviews.services import serves

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
CHANGE_NEXT = {
    ChangeItem.Status.PLANNED: [
        ChangeItem.Status.SCHEDULED,
        ChangeItem.Status.DONE,
        ChangeItem.Status.CANCELLED,
    ],
    ChangeItem.Status.SCHEDULED: [ChangeItem.Status.DONE, ChangeItem.Status.CANCELLED],
    ChangeItem.Status.DONE: [ChangeItem.Status.ROLLED_BACK],
}


def _status_choices(nexts: dict, status: str, labels: dict) -> list[tuple[str, str]]:
    return [(value, labels[value]) for value in nexts.get(status, [])]


# --- Maintenance -------------------------------------------------------------------------------


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
        window.next_statuses = _status_choices(MAINTENANCE_NEXT, window.status, labels)
    return render(
        request,
        "reviews/functions/maintenance_list.html",
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
        "reviews/functions/maintenance_edit.html",
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
    form = MaintenanceStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a status."))
    else:
        try:
            services.maintenance_update_status(
                acting_user=request.user, window=window, status=form.cleaned_data["status"]
            )
        except DomainError as error:
            messages.error(request, error_text(error))
        else:
            messages.success(request, _("Status changed."))
    return redirect(_maintenance_url(engagement, window))


# --- Changes -----------------------------------------------------------------------------------


def _change_url(engagement: Engagement, change: ChangeItem) -> str:
    return reverse("change_list", args=[engagement.pk]) + f"#change-{change.pk}"


@login_required
@require_http_methods(["GET", "POST"])
@entitled_page(FunctionCode.RELEASE_MANAGEMENT)
def change_list(request: AuthenticatedHttpRequest, engagement: Engagement) -> HttpResponse:
    """The engagement's changes with who acknowledged each; its staff announce new ones here,
    named contacts acknowledge."""
    user: User = request.user
    staff = serves(user, engagement)
    if request.method == "POST" and not staff:
        raise PermissionDenied
    form = ChangeItemForm(request.POST or None) if staff else None
    if form is not None and request.method == "POST" and form.is_valid():
        try:
            change = services.change_plan(
                acting_user=user, engagement=engagement, **form.cleaned_data
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("Change announced; the contacts were notified."))
            return redirect(_change_url(engagement, change))
    contacts = [
        contact.user
        for contact in Contact.objects.filter(
            engagement=engagement, removed_at__isnull=True
        ).select_related("user")
    ]
    is_contact = any(contact.pk == user.pk for contact in contacts)
    changes = list(
        ChangeItem.objects.filter(engagement=engagement)
        .prefetch_related(
            Prefetch(
                "acknowledgements",
                queryset=ChangeAcknowledgement.objects.select_related("user"),
            )
        )
        .order_by("-scheduled_at", "-id")[:200]
    )
    labels = dict(ChangeItem.Status.choices)
    for change in changes:
        acknowledged = {row.user_id for row in change.acknowledgements.all()}
        change.acknowledged_by_me = user.pk in acknowledged
        change.pending = [contact for contact in contacts if contact.pk not in acknowledged]
        change.next_statuses = _status_choices(CHANGE_NEXT, change.status, labels)
    return render(
        request,
        "reviews/functions/change_list.html",
        {
            "engagement": engagement,
            "staff": staff,
            "is_contact": is_contact,
            "form": form,
            "changes": changes,
        },
    )


def _change(engagement: Engagement, change_pk: int) -> ChangeItem:
    change = get_scoped_or_404(ChangeItem, pk=change_pk, engagement=engagement)
    change.engagement = engagement
    return change


@login_required
@require_http_methods(["GET", "POST"])
@entitled_page(FunctionCode.RELEASE_MANAGEMENT)
def change_edit(
    request: AuthenticatedHttpRequest, engagement: Engagement, change_pk: int
) -> HttpResponse:
    change = _change(engagement, change_pk)
    if not serves(request.user, engagement):
        raise PermissionDenied
    initial = {
        name: getattr(change, name)
        for name in ("title", "kind", "scheduled_at", "impact", "rollback_plan")
    }
    form = ChangeItemForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.change_update(acting_user=request.user, change=change, **form.cleaned_data)
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("Change saved."))
            return redirect(_change_url(engagement, change))
    return render(
        request,
        "reviews/functions/change_edit.html",
        {"engagement": engagement, "change": change, "form": form},
    )


@login_required
@require_POST
@entitled_page(FunctionCode.RELEASE_MANAGEMENT)
def change_status(
    request: AuthenticatedHttpRequest, engagement: Engagement, change_pk: int
) -> HttpResponse:
    change = _change(engagement, change_pk)
    if not serves(request.user, engagement):
        raise PermissionDenied
    form = ChangeStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a status."))
    else:
        try:
            services.change_update_status(
                acting_user=request.user, change=change, status=form.cleaned_data["status"]
            )
        except DomainError as error:
            messages.error(request, error_text(error))
        else:
            messages.success(request, _("Status changed."))
    return redirect(_change_url(engagement, change))


@login_required
@require_POST
@entitled_page(FunctionCode.RELEASE_MANAGEMENT)
def change_acknowledge(
    request: AuthenticatedHttpRequest, engagement: Engagement, change_pk: int
) -> HttpResponse:
    """A named contact acknowledges the change (again: nothing changes)."""
    change = _change(engagement, change_pk)
    try:
        services.change_acknowledge(acting_user=request.user, change=change)
    except DomainError as error:
        return refused(request, error)
    messages.success(request, _("Change acknowledged."))
    return redirect(_change_url(engagement, change))
