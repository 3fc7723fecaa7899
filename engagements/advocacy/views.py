"""The advocacy log (service function `customer_advocacy`): pages."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from engagements.advocacy import services
from engagements.advocacy.forms import AdvocacyItemForm, AdvocacyStaffForm
from engagements.advocacy.models import AdvocacyItem
from engagements.contacts.selectors import is_active_contact
from engagements.contracts.models import Engagement
from engagements.entitlements import FunctionCode, entitled_page
from engagements.selectors import serves
from portal.errors import InvalidInput, NotAllowed
from portal.http import AuthenticatedHttpRequest
from portal.pages import apply_domain_error


@entitled_page(FunctionCode.CUSTOMER_ADVOCACY)
def advocacy_list(request: AuthenticatedHttpRequest, engagement: Engagement) -> HttpResponse:
    items = AdvocacyItem.objects.filter(engagement=engagement).select_related("raised_by")
    staff = serves(request.user, engagement)
    contact = is_active_contact(engagement, request.user)
    return render(
        request,
        "engagements/advocacy/advocacy_list.html",
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
        "engagements/advocacy/advocacy_form.html",
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
        "engagements/advocacy/advocacy_form.html",
        {"engagement": engagement, "item": item, "form": form},
    )
