"""Organization pages: admins provision tenants and their people; customers see their own."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Count, Q
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from portal.accounts import services as account_services
from portal.accounts.models import User
from portal.errors import DomainError
from portal.files import IMAGES, protected_file_response
from portal.http import AuthenticatedHttpRequest
from portal.pages import admin_required, apply_domain_error, get_scoped_or_404
from portal.tenancy import services
from portal.tenancy.forms import CustomerPersonForm, OrganizationForm
from portal.tenancy.models import Membership, Organization


@login_required
def organization_list(request: HttpRequest) -> HttpResponse:
    organizations = Organization.objects.annotate(
        people=Count("memberships", filter=Q(memberships__is_active=True))
    ).order_by("name")
    return render(request, "tenancy/organization_list.html", {"organizations": organizations})


@login_required
def organization_detail(request: HttpRequest, pk: int) -> HttpResponse:
    organization = get_scoped_or_404(Organization, pk=pk)
    memberships = (
        Membership.objects.filter(organization=organization)
        .select_related("user")
        .order_by("role", "user__email")
    )
    return render(
        request,
        "tenancy/organization_detail.html",
        {"organization": organization, "memberships": memberships},
    )


@admin_required
@require_http_methods(["GET", "POST"])
def organization_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = OrganizationForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                organization = services.organization_create(
                    acting_user=request.user,
                    name=form.cleaned_data["name"],
                    slug=form.cleaned_data["slug"] or None,
                )
                _apply_logo(request, organization, form.cleaned_data["logo"])
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(
                request, _("Organization %(name)s created.") % {"name": organization.name}
            )
            return redirect("organization_detail", pk=organization.pk)
    return render(request, "tenancy/organization_form.html", {"form": form})


def _apply_logo(
    request: AuthenticatedHttpRequest, organization: Organization, logo: object
) -> None:
    """The form's logo: False when "clear" was ticked, a new upload, or the kept file."""
    if logo is False or isinstance(logo, UploadedFile):
        services.organization_set_logo(
            acting_user=request.user, organization=organization, upload=logo or None
        )


@login_required
@require_http_methods(["GET", "POST"])
def organization_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    organization = get_scoped_or_404(Organization, pk=pk)  # 404 before 403: reveal nothing
    if not request.user.is_provider_admin:
        raise PermissionDenied
    initial = {
        "name": organization.name,
        "slug": organization.slug,
        "is_active": organization.is_active,
        "logo": organization.logo,
    }
    form = OrganizationForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                services.organization_update(
                    acting_user=request.user,
                    organization=organization,
                    name=form.cleaned_data["name"],
                    slug=form.cleaned_data["slug"] or organization.slug,
                    is_active=form.cleaned_data["is_active"],
                )
                _apply_logo(request, organization, form.cleaned_data["logo"])
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("Organization saved."))
            return redirect("organization_detail", pk=organization.pk)
    return render(
        request, "tenancy/organization_form.html", {"form": form, "organization": organization}
    )


@login_required
@require_http_methods(["GET", "POST"])
def organization_person_add(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    organization = get_scoped_or_404(Organization, pk=pk)
    if not request.user.is_provider_admin:
        raise PermissionDenied
    form = CustomerPersonForm(request.POST or None, organization=organization)
    if request.method == "POST" and form.is_valid():
        try:
            data = dict(form.cleaned_data)
            user = account_services.user_provision(
                acting_user=request.user,
                kind=User.Kind.CUSTOMER,
                organization=organization,
                engagement_id=data.pop("engagement"),
                **data,
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(
                request,
                _("%(email)s added; a welcome e-mail is on its way.") % {"email": user.email},
            )
            return redirect("organization_detail", pk=organization.pk)
    return render(request, "tenancy/person_form.html", {"form": form, "organization": organization})


@login_required
def organization_logo(request: HttpRequest, pk: int) -> FileResponse:
    """The logo, to whoever may see the organization; another tenant's answers 404."""
    organization = get_scoped_or_404(Organization, pk=pk)
    return protected_file_response(
        organization.logo, kinds=IMAGES, download_name=f"{organization.slug}-logo", inline=True
    )
