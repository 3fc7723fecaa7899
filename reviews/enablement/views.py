"""The enablement (training) catalog: pages."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from engagements.catalog.models import Cadence, Method
from engagements.entitlements import (
    FunctionCode,
    entitled_engagements,
    require_any_entitlement,
)
from portal.accounts.models import User
from portal.errors import DomainError
from portal.http import AuthenticatedHttpRequest
from portal.pages import apply_domain_error, get_scoped_or_404
from reviews.enablement import services
from reviews.enablement.forms import TrainingResourceForm
from reviews.enablement.models import TrainingResource


def offers_enablement_sessions(user: User) -> bool:
    """Whether one of the user's engagements delivers enablement live (not only self-paced), so
    the catalog links to requesting a session. Staff: always. One query."""
    if user.is_provider_staff:
        return True
    methods = Cadence.objects.filter(
        plan__engagements__in=entitled_engagements(FunctionCode.CUSTOMER_ENABLEMENT),
        deliverable__code=FunctionCode.CUSTOMER_ENABLEMENT,
    ).values_list("methods", flat=True)
    return any(method != Method.SELF_PACED for row in methods for method in row or [])


@login_required
@require_http_methods(["GET", "POST"])
def enablement_catalog(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Self-paced trainings for everyone whose plan includes customer enablement, with a link
    to request a live session where the plan delivers one; admins add trainings here."""
    user: User = request.user
    require_any_entitlement(user, FunctionCode.CUSTOMER_ENABLEMENT)
    if request.method == "POST" and not user.is_provider_admin:
        raise PermissionDenied
    form = TrainingResourceForm(request.POST or None) if user.is_provider_admin else None
    if form is not None and request.method == "POST" and form.is_valid():
        try:
            services.training_resource_add(acting_user=user, **form.cleaned_data)
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("Training added to the catalog."))
            return redirect("enablement_catalog")
    return render(
        request,
        "reviews/enablement/enablement_catalog.html",
        {
            "resources": list(TrainingResource.objects.all()),
            "form": form,
            "offers_sessions": offers_enablement_sessions(user),
            "request_url": reverse("occurrence_request")
            + f"?deliverable={FunctionCode.CUSTOMER_ENABLEMENT}",
        },
    )


@login_required
@require_POST
def training_resource_remove(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    user: User = request.user
    if not user.is_provider_admin:
        raise PermissionDenied
    resource = get_scoped_or_404(TrainingResource, pk=pk)
    services.training_resource_remove(acting_user=user, resource=resource)
    messages.success(request, _("Training removed from the catalog."))
    return redirect("enablement_catalog")
