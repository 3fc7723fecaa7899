"""The customer's rating of a resolution: the form's target on the item's page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases.casework.views import case_detail_page, case_or_404, detail_url
from cases.satisfaction import services
from cases.satisfaction.forms import RatingForm
from portal.errors import DomainError
from portal.http import AuthenticatedHttpRequest
from portal.pages import apply_domain_error


@login_required
@require_POST
def case_rate(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    case = case_or_404(pk)
    form = RatingForm(request.POST)
    if not form.is_valid():
        return case_detail_page(request, case, rating_form=form, status=400)
    try:
        services.case_rate(
            acting_user=request.user,
            case=case,
            score=form.cleaned_data["score"],
            comment=form.cleaned_data["comment"],
        )
    except DomainError as error:
        apply_domain_error(form, error, refusal_page=True)
        return case_detail_page(request, case, rating_form=form, status=error.status_code)
    messages.success(request, _("Thank you: your rating is saved."))
    return redirect(detail_url(case, "rating"))
