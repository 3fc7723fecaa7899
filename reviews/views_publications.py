"""Pages of vendor news and roadmap announcements, the enablement catalog and environment
consulting.

Publications and the catalog are provider-wide: a customer sees the publications whose service
function is in one of their engagements' plans (another one answers 404 like a missing one) and
the catalog while one of their plans includes customer enablement (the 403 page naming it
otherwise). Consulting requests belong to an engagement, fetched through the request's tenant
scope first; an engagement whose plan lacks environment consulting answers the 403 page naming
it. Each page issues a constant number of queries.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from engagements.entitlements import FunctionCode, entitled_page, require_any_entitlement
from engagements.models import Engagement
from engagements.selectors import is_active_contact, serves
from portal.accounts.models import User
from portal.errors import DomainError, NotEntitled
from portal.http import AuthenticatedHttpRequest
from portal.pages import apply_domain_error, error_text, get_scoped_or_404, refused
from reviews import services_publications as services
from reviews.forms_publications import (
    ConsultingRequestForm,
    ConsultingScheduleForm,
    ConsultingStatusForm,
    PublicationForm,
    TrainingResourceForm,
)
from reviews.models import (
    ConsultingRequest,
    PublicationReceipt,
    TrainingResource,
)
from reviews.selectors_publications import (
    offers_enablement_sessions,
    visible_publications,
    visible_receipts,
)

LIST_LIMIT = 200


# --- Publications ------------------------------------------------------------------------------


@login_required
def publication_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """News and roadmap announcements for the viewer, newest first, unread ones marked."""
    user: User = request.user
    kind = request.GET.get("kind", "")
    publications = visible_publications(user)
    if kind in ("news", "roadmap"):
        publications = publications.filter(kind=kind)
    return render(
        request,
        "reviews/publications/publication_list.html",
        {
            "publications": list(publications[:LIST_LIMIT]),
            "kind": kind,
            "can_publish": user.is_provider_staff,
        },
    )


@login_required
def publication_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """One publication; a customer opening it leaves a read receipt. Its publisher and other
    staff see who of the entitled engagements' people read it."""
    user: User = request.user
    publication = visible_publications(user).filter(pk=pk).first()
    if publication is None:
        raise Http404
    receipt = services.publication_mark_read(acting_user=user, publication=publication)
    receipts: list[PublicationReceipt | None] = (
        list(visible_receipts(user).filter(publication=publication))
        if user.is_provider_staff
        else [receipt]
    )
    return render(
        request,
        "reviews/publications/publication_detail.html",
        {"publication": publication, "receipts": receipts, "staff": user.is_provider_staff},
    )


@login_required
@require_http_methods(["GET", "POST"])
def publication_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Admins publish news and roadmap announcements; managers publish news."""
    user: User = request.user
    if not user.is_provider_staff:
        raise PermissionDenied
    initial = {"kind": "news"} if not user.is_provider_admin else {}
    form = PublicationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            publication = services.publication_publish(acting_user=user, **form.cleaned_data)
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("Published."))
            return redirect("publication_detail", pk=publication.pk)
    return render(request, "reviews/publications/publication_create.html", {"form": form})


# --- The enablement catalog --------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def enablement_catalog(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Self-paced trainings for everyone whose plan includes customer enablement, with a link
    to request a live session where the plan delivers one; admins add trainings here."""
    user: User = request.user
    try:
        require_any_entitlement(user, FunctionCode.CUSTOMER_ENABLEMENT)
    except NotEntitled as error:
        return refused(request, error)
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
        "reviews/publications/enablement_catalog.html",
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


# --- Environment consulting --------------------------------------------------------------------


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
        "reviews/publications/consulting_list.html",
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
        "reviews/publications/consulting_create.html",
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
        "reviews/publications/consulting_schedule.html",
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
    form = ConsultingStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a status."))
    else:
        try:
            services.consulting_update_status(
                acting_user=request.user, request=row, status=form.cleaned_data["status"]
            )
        except DomainError as error:
            messages.error(request, error_text(error))
        else:
            messages.success(request, _("Status changed."))
    return redirect(_consulting_url(engagement, row))
