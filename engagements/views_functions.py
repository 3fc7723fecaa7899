"""Pages of three service functions of an engagement: the customer profile
(`engagements/<pk>/intelligence/`), the advocacy log (`engagements/<pk>/advocacy/`) and upgrade
plans (`engagements/<pk>/upgrades/`).

The engagement is fetched through the request's scope first (another tenant's answers 404);
where its plan lacks the function the page answers 403 naming it. Changes go through
`engagements.services_functions`.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from engagements import services_functions as services
from engagements.entitlements import FunctionCode, entitled_page
from engagements.forms_functions import (
    AdvocacyItemForm,
    AdvocacyStaffForm,
    CustomerProfileForm,
    UpgradeMilestoneForm,
    UpgradePlanForm,
)
from engagements.models import AdvocacyItem, Engagement, UpgradeMilestone, UpgradePlan
from engagements.selectors import is_active_contact, serves
from portal.errors import InvalidInput, NotAllowed
from portal.http import AuthenticatedHttpRequest
from portal.pages import apply_domain_error

# --- Customer profile ---------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@entitled_page(FunctionCode.CUSTOMER_INTELLIGENCE)
def customer_profile(request: AuthenticatedHttpRequest, engagement: Engagement) -> HttpResponse:
    profile = services.customer_profile_of(engagement)
    may_edit = services.may_edit_profile(request.user, engagement)
    form = None
    if may_edit:
        initial = {name: getattr(profile, name) for name in services.PROFILE_FIELDS}
        form = CustomerProfileForm(request.POST or None, initial=initial)
    elif request.method == "POST":
        raise NotAllowed(_("Only the engagement's staff and named contacts edit it."))
    if form is not None and request.method == "POST" and form.is_valid():
        try:
            services.customer_profile_update(
                acting_user=request.user, engagement=engagement, **form.cleaned_data
            )
        except InvalidInput as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("The customer profile was saved."))
            return redirect(services.profile_url(engagement.pk))
    return render(
        request,
        "engagements/functions/customer_profile.html",
        {
            "engagement": engagement,
            "profile": profile,
            "form": form,
            "changes": services.customer_profile_changes(profile),
        },
    )


# --- Advocacy items -----------------------------------------------------------------------------


@entitled_page(FunctionCode.CUSTOMER_ADVOCACY)
def advocacy_list(request: AuthenticatedHttpRequest, engagement: Engagement) -> HttpResponse:
    items = AdvocacyItem.objects.filter(engagement=engagement).select_related("raised_by")
    staff = serves(request.user, engagement)
    contact = is_active_contact(engagement, request.user)
    return render(
        request,
        "engagements/functions/advocacy_list.html",
        {
            "engagement": engagement,
            "items": items,
            "is_staff": staff,
            "may_add": staff or contact,
            "user_id": request.user.pk if contact else None,
        },
    )


@require_http_methods(["GET", "POST"])
@entitled_page(FunctionCode.CUSTOMER_ADVOCACY)
def advocacy_create(request: AuthenticatedHttpRequest, engagement: Engagement) -> HttpResponse:
    if not (serves(request.user, engagement) or is_active_contact(engagement, request.user)):
        raise NotAllowed(_("Only the engagement's named contacts and staff add items."))
    form = AdvocacyItemForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            item = services.advocacy_item_create(
                acting_user=request.user, engagement=engagement, **form.cleaned_data
            )
        except InvalidInput as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("The item was added to the advocacy log."))
            return redirect(f"{services.advocacy_url(engagement.pk)}#item-{item.pk}")
    return render(
        request,
        "engagements/functions/advocacy_form.html",
        {"engagement": engagement, "item": None, "form": form},
    )


@require_http_methods(["GET", "POST"])
@entitled_page(FunctionCode.CUSTOMER_ADVOCACY)
def advocacy_edit(
    request: AuthenticatedHttpRequest, engagement: Engagement, item_pk: int
) -> HttpResponse:
    item = get_object_or_404(
        AdvocacyItem.objects.filter(engagement=engagement).select_related("engagement"),
        pk=item_pk,
    )
    if not services.may_edit_advocacy_text(request.user, item):
        raise NotAllowed(_("Only the engagement's staff change this item."))
    staff = serves(request.user, engagement)
    form_class = AdvocacyStaffForm if staff else AdvocacyItemForm
    fields = services.ADVOCACY_FIELDS if staff else services.ADVOCACY_TEXT_FIELDS
    form = form_class(request.POST or None, initial={name: getattr(item, name) for name in fields})
    if request.method == "POST" and form.is_valid():
        try:
            services.advocacy_item_update(acting_user=request.user, item=item, **form.cleaned_data)
        except InvalidInput as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("The item was saved."))
            return redirect(f"{services.advocacy_url(engagement.pk)}#item-{item.pk}")
    return render(
        request,
        "engagements/functions/advocacy_form.html",
        {"engagement": engagement, "item": item, "form": form},
    )


# --- Upgrade plans ------------------------------------------------------------------------------


@entitled_page(FunctionCode.UPGRADE_PLANNING)
def upgrade_plan_list(request: AuthenticatedHttpRequest, engagement: Engagement) -> HttpResponse:
    plans = UpgradePlan.objects.filter(engagement=engagement).prefetch_related(
        Prefetch("milestones", queryset=UpgradeMilestone.objects.select_related("owner"))
    )
    staff = serves(request.user, engagement)
    contact = is_active_contact(engagement, request.user)
    return render(
        request,
        "engagements/functions/upgrade_list.html",
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
        "engagements/functions/upgrade_form.html",
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
        "engagements/functions/milestone_form.html",
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
