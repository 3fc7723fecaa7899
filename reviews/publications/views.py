"""Vendor news and roadmap announcements: pages."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from portal.accounts.models import User
from portal.errors import DomainError
from portal.http import AuthenticatedHttpRequest
from portal.pages import apply_domain_error
from reviews.publications import services
from reviews.publications.forms import PublicationForm
from reviews.publications.models import PublicationReceipt
from reviews.publications.selectors import visible_publications, visible_receipts

LIST_LIMIT = 200


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
