"""The customer profile (service function `customer_intelligence`): pages."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from engagements.contracts.models import Engagement
from engagements.entitlements import FunctionCode, entitled_page
from engagements.intelligence import services
from engagements.intelligence.forms import CustomerProfileForm
from portal.errors import InvalidInput, NotAllowed
from portal.http import AuthenticatedHttpRequest
from portal.pages import apply_domain_error


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
        "engagements/intelligence/customer_profile.html",
        {
            "engagement": engagement,
            "profile": profile,
            "form": form,
            "changes": services.customer_profile_changes(profile),
        },
    )
