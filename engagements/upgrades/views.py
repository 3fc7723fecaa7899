"""Upgrade plans and their milestones (service function `upgrade_planning`): pages."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from engagements.contacts.selectors import is_active_contact
from engagements.contracts.models import Engagement
from engagements.entitlements import FunctionCode, entitled_page
from engagements.selectors import serves
from engagements.upgrades import services
from engagements.upgrades.forms import UpgradeMilestoneForm, UpgradePlanForm
from engagements.upgrades.models import UpgradeMilestone, UpgradePlan
from portal.errors import InvalidInput, NotAllowed
from portal.http import AuthenticatedHttpRequest
from portal.pages import apply_domain_error


@entitled_page(FunctionCode.UPGRADE_PLANNING)
def upgrade_plan_list(request: AuthenticatedHttpRequest, engagement: Engagement) -> HttpResponse:
    plans = UpgradePlan.objects.filter(engagement=engagement).prefetch_related(
        Prefetch("milestones", queryset=UpgradeMilestone.objects.select_related("owner"))
    )
    staff = serves(request.user, engagement)
    contact = is_active_contact(engagement, request.user)
    return render(
        request,
        "engagements/upgrades/upgrade_list.html",
        {
            "engagement": engagement,
            "plans": plans,
            "is_staff": staff,
            "owner_id": request.user.pk if contact else None,
        },
    )


def _plan_form_page(
    request: AuthenticatedHttpRequest, engagement: Engagement, plan: UpgradePlan | None
) -> HttpResponse:
    if not serves(request.user, engagement):
        raise NotAllowed(_("Only the engagement's staff plan upgrades."))
    initial: dict[str, Any] = {"status": UpgradePlan.Status.DRAFT}
    if plan is not None:
        initial = {name: getattr(plan, name) for name in services.PLAN_FIELDS}
    form = UpgradePlanForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if plan is None:
                plan = services.upgrade_plan_create(
                    acting_user=request.user, engagement=engagement, **form.cleaned_data
                )
                messages.success(request, _("The upgrade plan was added."))
            else:
                plan = services.upgrade_plan_update(
                    acting_user=request.user, plan=plan, **form.cleaned_data
                )
                messages.success(request, _("The upgrade plan was saved."))
        except InvalidInput as error:
            apply_domain_error(form, error)
        else:
            return redirect(f"{services.upgrades_url(engagement.pk)}#plan-{plan.pk}")
    return render(
        request,
        "engagements/upgrades/upgrade_form.html",
        {"engagement": engagement, "plan": plan, "form": form},
    )


@require_http_methods(["GET", "POST"])
@entitled_page(FunctionCode.UPGRADE_PLANNING)
def upgrade_plan_create(request: AuthenticatedHttpRequest, engagement: Engagement) -> HttpResponse:
    return _plan_form_page(request, engagement, None)


@require_http_methods(["GET", "POST"])
@entitled_page(FunctionCode.UPGRADE_PLANNING)
def upgrade_plan_edit(
    request: AuthenticatedHttpRequest, engagement: Engagement, plan_pk: int
) -> HttpResponse:
    plan = get_object_or_404(UpgradePlan.objects.filter(engagement=engagement), pk=plan_pk)
    return _plan_form_page(request, engagement, plan)


def _milestone_form_page(
    request: AuthenticatedHttpRequest,
    engagement: Engagement,
    plan: UpgradePlan,
    milestone: UpgradeMilestone | None,
) -> HttpResponse:
    if not serves(request.user, engagement):
        raise NotAllowed(_("Only the engagement's staff change milestones."))
    initial: dict[str, Any] = {}
    if milestone is not None:
        initial = {
            "title": milestone.title,
            "due_date": milestone.due_date,
            "owner": milestone.owner_id,
            "owner_name": milestone.owner_name,
        }
    form = UpgradeMilestoneForm(request.POST or None, initial=initial, engagement=engagement)
    if request.method == "POST" and form.is_valid():
        try:
            if milestone is None:
                milestone = services.upgrade_milestone_add(
                    acting_user=request.user, plan=plan, **form.cleaned_data
                )
                messages.success(request, _("The milestone was added."))
            else:
                milestone = services.upgrade_milestone_update(
                    acting_user=request.user, milestone=milestone, **form.cleaned_data
                )
                messages.success(request, _("The milestone was saved."))
        except InvalidInput as error:
            apply_domain_error(form, error)
        else:
            return redirect(f"{services.upgrades_url(engagement.pk)}#milestone-{milestone.pk}")
    return render(
        request,
        "engagements/upgrades/milestone_form.html",
        {"engagement": engagement, "plan": plan, "milestone": milestone, "form": form},
    )


@require_http_methods(["GET", "POST"])
@entitled_page(FunctionCode.UPGRADE_PLANNING)
def upgrade_milestone_create(
    request: AuthenticatedHttpRequest, engagement: Engagement, plan_pk: int
) -> HttpResponse:
    plan = get_object_or_404(UpgradePlan.objects.filter(engagement=engagement), pk=plan_pk)
    return _milestone_form_page(request, engagement, plan, None)


@require_http_methods(["GET", "POST"])
@entitled_page(FunctionCode.UPGRADE_PLANNING)
def upgrade_milestone_edit(
    request: AuthenticatedHttpRequest, engagement: Engagement, milestone_pk: int
) -> HttpResponse:
    milestone = get_object_or_404(
        UpgradeMilestone.objects.filter(plan__engagement=engagement).select_related("plan"),
        pk=milestone_pk,
    )
    return _milestone_form_page(request, engagement, milestone.plan, milestone)


@require_POST
@entitled_page(FunctionCode.UPGRADE_PLANNING)
def upgrade_milestone_done(
    request: AuthenticatedHttpRequest, engagement: Engagement, milestone_pk: int
) -> HttpResponse:
    """Staff, or the named contact who owns it: mark the milestone done (`done=1`) or not."""
    milestone = get_object_or_404(
        UpgradeMilestone.objects.filter(plan__engagement=engagement), pk=milestone_pk
    )
    done = request.POST.get("done") == "1"
    services.upgrade_milestone_update(acting_user=request.user, milestone=milestone, done=done)
    messages.success(
        request, _("The milestone is done.") if done else _("The milestone is open again.")
    )
    return redirect(f"{services.upgrades_url(engagement.pk)}#milestone-{milestone.pk}")
