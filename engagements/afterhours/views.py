"""After-hours support requests: pages."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from engagements.afterhours import services
from engagements.afterhours.forms import AfterHoursDecideForm, AfterHoursRequestForm
from engagements.afterhours.models import AfterHoursRequest
from engagements.business_time import (
    add_business_days,
)
from engagements.contacts.selectors import is_active_contact
from engagements.contracts.views import business_hour_rows, engagement_or_404
from engagements.selectors import engagement_calendar, serves, term_notice
from portal.accounts.models import User
from portal.errors import DomainError
from portal.http import AuthenticatedHttpRequest
from portal.pages import (
    apply_domain_error,
    flash_error,
    get_scoped_or_404,
    rename_fields,
)

if TYPE_CHECKING:

    class _UpcomingWindows(TypedDict):  # Prefetch(to_attr=) of the dashboard cards
        upcoming_windows: list[AfterHoursRequest]


@login_required
@require_http_methods(["GET", "POST"])
def after_hours_list(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The engagement's requests; named contacts file new ones, the manager, the deputy and
    admins decide."""
    engagement = engagement_or_404(pk)
    user: User = request.user
    may_request = user.is_customer and is_active_contact(engagement, user)
    if request.method == "POST" and not may_request:
        raise PermissionDenied
    # Outside its term the engagement takes no new request: the page says why, offers no form.
    closed_notice = term_notice(engagement)
    form = (
        AfterHoursRequestForm(request.POST or None, engagement=engagement)
        if may_request and not closed_notice
        else None
    )
    if form is not None and request.method == "POST" and form.is_valid():
        starts_at, ends_at = form.window()
        try:
            services.after_hours_request(
                acting_user=user,
                engagement=engagement,
                starts_at=starts_at,
                ends_at=ends_at,
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            renamed = rename_fields(error, {"starts_at": "starts", "ends_at": "ends"})
            apply_domain_error(form, renamed)
        else:
            messages.success(
                request,
                _("Your request was sent to the service manager, who will approve or decline it."),
            )
            return redirect("after_hours_list", pk=engagement.pk)
    now = timezone.now()
    earliest = None
    if form is not None:
        calendar = engagement_calendar(engagement, with_after_hours=False)
        try:
            earliest = add_business_days(calendar, now, services.AFTER_HOURS_NOTICE_BUSINESS_DAYS)
        except ValueError:
            earliest = None
    requests = (
        AfterHoursRequest.objects.filter(engagement=engagement)
        .select_related("requested_by", "decided_by")
        .order_by("-starts_at", "-id")
    )
    page = Paginator(requests, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "engagements/afterhours/after_hours_list.html",
        {
            "engagement": engagement,
            "page": page,
            "form": form,
            "may_request": may_request,
            "closed_notice": closed_notice,
            "may_decide": serves(user, engagement),
            "earliest": earliest,
            "notice_days": services.AFTER_HOURS_NOTICE_BUSINESS_DAYS,
            "open_hours": [
                f"{weekday} {opens}–{closes}"
                for weekday, opens, closes in business_hour_rows(engagement)
                if opens
            ],
        },
    )


@login_required
@require_POST
def after_hours_decide(request: AuthenticatedHttpRequest, pk: int, request_pk: int) -> HttpResponse:
    engagement = engagement_or_404(pk)
    support_request = get_scoped_or_404(AfterHoursRequest, pk=request_pk, engagement=engagement)
    if not serves(request.user, engagement):
        raise PermissionDenied
    form = AfterHoursDecideForm(request.POST)
    target = reverse("after_hours_list", args=[engagement.pk]) + f"#request-{support_request.pk}"
    if not form.is_valid():
        messages.error(request, _("Choose to approve or to decline."))
        return redirect(target)
    approve = form.cleaned_data["decision"] == "approve"
    try:
        services.after_hours_decide(
            acting_user=request.user,
            request=support_request,
            approve=approve,
            note=form.cleaned_data["note"],
        )
    except DomainError as error:
        flash_error(request, error)
    else:
        messages.success(request, _("Request approved.") if approve else _("Request declined."))
    return redirect(target)
