"""Environment consulting requests: pages."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from engagements.contacts.selectors import is_active_contact
from engagements.contracts.models import Engagement
from engagements.entitlements import FunctionCode, entitled_page
from engagements.selectors import serves
from portal.accounts.models import User
from portal.errors import DomainError
from portal.http import AuthenticatedHttpRequest
from portal.pages import apply_domain_error, get_scoped_or_404, status_change
from reviews.consulting import services
from reviews.consulting.forms import (
    ConsultingRequestForm,
    ConsultingScheduleForm,
    ConsultingStatusForm,
)
from reviews.consulting.models import ConsultingRequest
from reviews.publications.views import LIST_LIMIT


def _consulting_url(engagement: Engagement, row: ConsultingRequest | None = None) -> str:
    url = reverse("consulting_list", args=[engagement.pk])
    return f"{url}#consulting-{row.pk}" if row is not None else url


@entitled_page(FunctionCode.ENVIRONMENT_CONSULTING)
def consulting_list(request: AuthenticatedHttpRequest, engagement: Engagement) -> HttpResponse:
    """The engagement's consulting requests and their sessions."""
    user: User = request.user
    rows = list(
        ConsultingRequest.objects.filter(engagement=engagement)
        .select_related("requested_by", "session")
        .order_by("-created_at", "-id")[:LIST_LIMIT]
    )
    return render(
        request,
        "reviews/consulting/consulting_list.html",
        {
            "engagement": engagement,
            "rows": rows,
            "staff": serves(user, engagement),
            "is_contact": is_active_contact(engagement, user),
            "status_form": ConsultingStatusForm(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
@entitled_page(FunctionCode.ENVIRONMENT_CONSULTING)
def consulting_create(request: AuthenticatedHttpRequest, engagement: Engagement) -> HttpResponse:
    """A named contact asks for environment consulting."""
    if not is_active_contact(engagement, request.user):
        raise PermissionDenied
    form = ConsultingRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            row = services.consulting_request(
                acting_user=request.user, engagement=engagement, **form.cleaned_data
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("Consulting requested; your service manager was told."))
            return redirect(_consulting_url(engagement, row))
    return render(
        request,
        "reviews/consulting/consulting_create.html",
        {"engagement": engagement, "form": form},
    )


def _staff_request(
    request: AuthenticatedHttpRequest, engagement: Engagement, request_pk: int
) -> ConsultingRequest:
    row = get_scoped_or_404(ConsultingRequest, pk=request_pk, engagement=engagement)
    row.engagement = engagement
    if not serves(request.user, engagement):
        raise PermissionDenied
    return row


@login_required
@require_http_methods(["GET", "POST"])
@entitled_page(FunctionCode.ENVIRONMENT_CONSULTING)
def consulting_schedule(
    request: AuthenticatedHttpRequest, engagement: Engagement, request_pk: int
) -> HttpResponse:
    """The engagement's staff turn a request into a session."""
    row = _staff_request(request, engagement, request_pk)
    form = ConsultingScheduleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.consulting_schedule(acting_user=request.user, request=row, **form.cleaned_data)
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("Session scheduled; the requester was notified."))
            return redirect(_consulting_url(engagement, row))
    return render(
        request,
        "reviews/consulting/consulting_schedule.html",
        {"engagement": engagement, "row": row, "form": form},
    )


@login_required
@require_POST
@entitled_page(FunctionCode.ENVIRONMENT_CONSULTING)
def consulting_status(
    request: AuthenticatedHttpRequest, engagement: Engagement, request_pk: int
) -> HttpResponse:
    """Staff decline a request or close a scheduled one as done."""
    row = _staff_request(request, engagement, request_pk)
    return status_change(
        request,
        ConsultingStatusForm(request.POST),
        lambda status: services.consulting_update_status(
            acting_user=request.user, request=row, status=status
        ),
        redirect_to=_consulting_url(engagement, row),
    )
