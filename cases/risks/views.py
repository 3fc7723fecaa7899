"""The risk register (service function `risk_mitigation`): pages."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from cases.risks import services
from cases.risks.forms import RiskForm
from cases.risks.models import Risk
from engagements.contracts.models import Engagement
from engagements.entitlements import FunctionCode, entitled_page
from engagements.selectors import serves
from portal.errors import InvalidInput, NotAllowed
from portal.http import AuthenticatedHttpRequest
from portal.pages import apply_domain_error


@entitled_page(FunctionCode.RISK_MITIGATION)
def risk_list(request: AuthenticatedHttpRequest, engagement: Engagement) -> HttpResponse:
    risks = Risk.objects.filter(engagement=engagement).select_related("owner")
    return render(
        request,
        "cases/risks/risk_list.html",
        {
            "engagement": engagement,
            "risks": risks,
            "threshold": settings.RISK_REPORT_THRESHOLD,
            "is_staff": serves(request.user, engagement),
        },
    )


def _risk_form_page(
    request: AuthenticatedHttpRequest, engagement: Engagement, risk: Risk | None
) -> HttpResponse:
    if not serves(request.user, engagement):
        raise NotAllowed(_("Only the engagement's staff record and change risks."))
    initial: dict[str, Any] = {"owner": engagement.manager_id, "status": Risk.Status.OPEN}
    if risk is not None:
        initial = {name: getattr(risk, name) for name in services.RISK_FIELDS}
        initial["owner"] = risk.owner_id
    form = RiskForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            if risk is None:
                risk = services.risk_create(acting_user=request.user, engagement=engagement, **data)
                messages.success(request, _("The risk was added to the register."))
            else:
                risk = services.risk_update(acting_user=request.user, risk=risk, **data)
                messages.success(request, _("The risk was saved."))
        except InvalidInput as error:
            apply_domain_error(form, error)
        else:
            return redirect(f"{services.risks_url(engagement.pk)}#risk-{risk.pk}")
    return render(
        request,
        "cases/risks/risk_form.html",
        {"engagement": engagement, "risk": risk, "form": form},
    )


@require_http_methods(["GET", "POST"])
@entitled_page(FunctionCode.RISK_MITIGATION)
def risk_create(request: AuthenticatedHttpRequest, engagement: Engagement) -> HttpResponse:
    return _risk_form_page(request, engagement, None)


@require_http_methods(["GET", "POST"])
@entitled_page(FunctionCode.RISK_MITIGATION)
def risk_edit(
    request: AuthenticatedHttpRequest, engagement: Engagement, risk_pk: int
) -> HttpResponse:
    risk = get_object_or_404(Risk.objects.filter(engagement=engagement), pk=risk_pk)
    return _risk_form_page(request, engagement, risk)
