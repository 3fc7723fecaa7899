"""Absences of service managers and who is responsible meanwhile: pages."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, TypedDict

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from engagements.absences import services
from engagements.absences.forms import AbsenceForm
from engagements.absences.models import Absence
from engagements.afterhours.models import AfterHoursRequest
from engagements.contracts.models import (
    Engagement,
)
from portal.accounts.models import User
from portal.errors import DomainError
from portal.http import AuthenticatedHttpRequest
from portal.pages import (
    apply_domain_error,
    provider_staff_required,
)

if TYPE_CHECKING:

    class _UpcomingWindows(TypedDict):  # Prefetch(to_attr=) of the dashboard cards
        upcoming_windows: list[AfterHoursRequest]


@provider_staff_required
@require_http_methods(["GET", "POST"])
def absence_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Current and upcoming absences of all provider staff, who cover for each other."""
    user: User = request.user
    form = AbsenceForm(request.POST or None, acting_user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.absence_record(
                acting_user=user,
                manager=data.get("manager") or user,
                kind=data["kind"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                note=data["note"],
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("Absence recorded."))
            return redirect("absence_list")
    now = timezone.now()
    absences = list(
        Absence.objects.filter(ends_at__gt=now).select_related("manager").order_by("starts_at")
    )
    # Who covers what: the engagements (that the viewer may see) of the people who are away.
    covered: dict[int, list[Engagement]] = defaultdict(list)
    for engagement in Engagement.objects.filter(
        manager_id__in={absence.manager_id for absence in absences}
    ).select_related("organization", "plan", "deputy"):
        covered[engagement.manager_id].append(engagement)
    rows = [
        {
            "absence": absence,
            "current": absence.starts_at <= now,
            "engagements": covered.get(absence.manager_id, []),
            "mine": absence.manager_id == user.pk,
        }
        for absence in absences
    ]
    return render(request, "engagements/absences/absence_list.html", {"rows": rows, "form": form})


@provider_staff_required
@require_POST
def absence_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    # Another manager's absence answers 404 exactly like a missing one (no id oracle).
    mine = (
        Absence.objects.all()
        if request.user.is_provider_admin
        else Absence.objects.filter(manager=request.user)
    )
    absence = get_object_or_404(mine, pk=pk)
    services.absence_delete(acting_user=request.user, absence=absence)
    messages.success(request, _("Absence removed."))
    return redirect("absence_list")
