"""Release management: announced changes and their acknowledgements: pages."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from engagements.contacts.models import Contact
from engagements.contracts.models import Engagement
from engagements.entitlements import FunctionCode, entitled_page
from engagements.selectors import serves
from portal.accounts.models import User
from portal.errors import DomainError
from portal.http import AuthenticatedHttpRequest
from portal.pages import apply_domain_error, get_scoped_or_404, status_change
from reviews.maintenance.views import status_choices
from reviews.releases import services
from reviews.releases.forms import ChangeItemForm, ChangeStatusForm
from reviews.releases.models import ChangeAcknowledgement, ChangeItem

CHANGE_NEXT = {
    ChangeItem.Status.PLANNED: [
        ChangeItem.Status.SCHEDULED,
        ChangeItem.Status.DONE,
        ChangeItem.Status.CANCELLED,
    ],
    ChangeItem.Status.SCHEDULED: [ChangeItem.Status.DONE, ChangeItem.Status.CANCELLED],
    ChangeItem.Status.DONE: [ChangeItem.Status.ROLLED_BACK],
}


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
        change.next_statuses = status_choices(CHANGE_NEXT, change.status, labels)
    return render(
        request,
        "reviews/releases/change_list.html",
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
        "reviews/releases/change_edit.html",
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
        raise PermissionDenied  # rights before input, as on every action
    return status_change(
        request,
        ChangeStatusForm(request.POST),
        lambda status: services.change_update_status(
            acting_user=request.user, change=change, status=status
        ),
        redirect_to=_change_url(engagement, change),
    )


@login_required
@require_POST
@entitled_page(FunctionCode.RELEASE_MANAGEMENT)
def change_acknowledge(
    request: AuthenticatedHttpRequest, engagement: Engagement, change_pk: int
) -> HttpResponse:
    """A named contact acknowledges the change (again: nothing changes)."""
    change = _change(engagement, change_pk)
    services.change_acknowledge(acting_user=request.user, change=change)
    messages.success(request, _("Change acknowledged."))
    return redirect(_change_url(engagement, change))
