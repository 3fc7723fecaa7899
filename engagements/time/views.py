"""Time entries and the weekly hours budget: pages."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypedDict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from engagements.afterhours.models import AfterHoursRequest
from engagements.contracts.views import engagement_or_404
from engagements.selectors import serves
from engagements.time import services
from engagements.time.forms import TimeEntryForm
from engagements.time.models import TimeEntry
from engagements.time.selectors import hours_summary, week_start
from portal.accounts.models import User
from portal.errors import DomainError
from portal.http import AuthenticatedHttpRequest
from portal.pages import (
    apply_domain_error,
    get_scoped_or_404,
    rename_fields,
)

if TYPE_CHECKING:

    class _UpcomingWindows(TypedDict):  # Prefetch(to_attr=) of the dashboard cards
        upcoming_windows: list[AfterHoursRequest]


TIME_ENTRY_WEEKS = 8


@login_required
@require_http_methods(["GET", "POST"])
def time_entries(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Staff serving the engagement (and admins) log minutes; everyone who sees the engagement
    sees the weekly totals against the cap. Customers do not see the entries themselves."""
    engagement = engagement_or_404(pk)
    user: User = request.user
    is_staff = serves(user, engagement)
    if request.method == "POST" and not is_staff:
        raise PermissionDenied
    form = (
        TimeEntryForm(request.POST or None, engagement=engagement, acting_user=user)
        if is_staff
        else None
    )
    if form is not None and request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            entry = services.time_entry_log(
                acting_user=user,
                engagement=engagement,
                day=data["date"],
                minutes=data["duration"],
                activity=data["activity"],
                note=data["note"],
                manager=form.chosen_manager(),
            )
        except DomainError as error:
            apply_domain_error(form, rename_fields(error, {"minutes": "duration"}))
        else:
            messages.success(
                request,
                _("%(minutes)d minutes logged for %(date)s.")
                % {"minutes": entry.minutes, "date": entry.date.isoformat()},
            )
            return redirect("time_entries", pk=engagement.pk)
    summary = hours_summary(engagement, weeks=TIME_ENTRY_WEEKS)
    current = week_start(engagement.local_today())
    weeks = [(current, summary.this_week_minutes, True)] + [
        (monday, minutes, False) for monday, minutes in reversed(summary.trailing_weeks)
    ]
    last_four = [minutes for _monday, minutes in summary.trailing_weeks[-4:]]
    context: dict[str, Any] = {
        "engagement": engagement,
        "form": form,
        "weeks": weeks,
        "cap_minutes": summary.cap_minutes,
        "average_minutes": round(sum(last_four) / len(last_four)) if last_four else 0,
        "is_staff": is_staff,
    }
    if is_staff:
        context["entries"] = list(
            TimeEntry.objects.filter(
                engagement=engagement, date__gte=current - timedelta(weeks=TIME_ENTRY_WEEKS)
            ).select_related("manager")
        )
    return render(request, "engagements/time/time_entries.html", context)


@login_required
@require_POST
def time_entry_delete(request: AuthenticatedHttpRequest, pk: int, entry_pk: int) -> HttpResponse:
    engagement = engagement_or_404(pk)
    entry = get_scoped_or_404(TimeEntry, pk=entry_pk, engagement=engagement)
    user: User = request.user
    if not (user.is_provider_admin or entry.manager_id == user.pk):
        raise PermissionDenied
    services.time_entry_delete(acting_user=user, entry=entry)
    messages.success(request, _("Time entry removed."))
    return redirect("time_entries", pk=engagement.pk)
