"""Single sign-on pages: the sign-in step that finds a person's identity provider (by the
domain of their address, or by a direct link per organization), and the organization's
connection, which provider admins manage."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.errors import DomainError
from portal.http import AuthenticatedHttpRequest
from portal.pages import apply_domain_error, get_scoped_or_404
from portal.sso import selectors, services
from portal.sso.adapter import saml_urls
from portal.sso.forms import SsoConnectionForm, SsoLookupForm
from portal.sso.models import SsoConnection
from portal.tenancy.models import Organization


def login_url_of(connection: SsoConnection) -> str:
    """Where the sign-in button posts: allauth's login view of the connection's protocol."""
    if connection.is_saml:
        return reverse("saml_login", kwargs={"organization_slug": connection.organization.slug})
    return reverse("openid_connect_login", kwargs={"provider_id": connection.provider_id})


def _start_page(
    request: HttpRequest, connection: SsoConnection | None, form: SsoLookupForm | None = None
) -> HttpResponse:
    login_url = (
        login_url_of(connection) if connection is not None and connection.is_enabled else None
    )
    response = render(
        request,
        "sso/start.html",
        {
            "connection": connection,
            "login_url": login_url,
            "form": form or SsoLookupForm(),
            "next": request.GET.get("next", ""),
        },
    )
    if login_url and connection is not None:
        # The button posts here and is redirected to the provider: browsers hold that redirect
        # to the page's form-action, so this page allows the issuer's (or the SAML identity
        # provider's single sign-on) origin too.
        target = urlsplit(connection.saml_sso_url if connection.is_saml else connection.issuer)
        response._csp_update = {"form-action": [f"{target.scheme}://{target.netloc}"]}  # type: ignore[attr-defined]
    return response


@require_GET
def sso_lookup(request: HttpRequest) -> HttpResponse:
    """The sign-in page's "continue": the identity provider of the address's domain."""
    form = SsoLookupForm(request.GET or None)
    connection = None
    if form.is_bound and form.is_valid():
        connection = selectors.connection_for_email(form.cleaned_data["email"])
        if connection is None:
            form.add_error(
                "email",
                _("No single sign-on is set up for this address: sign in with your password."),
            )
    return _start_page(request, connection, form)


@require_GET
def sso_start(request: HttpRequest, slug: str) -> HttpResponse:
    """An organization's direct sign-in link."""
    connection = selectors.connection_for_organization_slug(slug)
    if connection is None:
        raise Http404
    return _start_page(request, connection)


@login_required
@require_http_methods(["GET", "POST"])
def organization_sso(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    organization: Organization = get_scoped_or_404(Organization, pk=pk)  # 404 before 403
    if not request.user.is_provider_admin:
        raise PermissionDenied
    connection = SsoConnection.objects.filter(organization=organization).first()
    initial: dict[str, object] = {"is_enabled": True}
    if connection is not None:
        initial = {
            "name": connection.name,
            "protocol": connection.protocol,
            "issuer": connection.issuer,
            "client_id": connection.client_id,
            "saml_entity_id": connection.saml_entity_id,
            "saml_sso_url": connection.saml_sso_url,
            "saml_certificate": connection.saml_certificate,
            "saml_metadata_url": connection.saml_metadata_url,
            "saml_email_attribute": connection.saml_email_attribute,
            "domains": "\n".join(services.domains_of(connection)),
            "is_enabled": connection.is_enabled,
            "require_sso": connection.require_sso,
            "allow_jit": connection.allow_jit,
        }
    form = SsoConnectionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["protocol"] = data["protocol"] or (
            connection.protocol if connection is not None else SsoConnection.Protocol.OIDC
        )
        try:
            if connection is None:
                services.sso_connection_create(
                    acting_user=request.user, organization=organization, **data
                )
            else:
                services.sso_connection_update(
                    acting_user=request.user, connection=connection, **data
                )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("Single sign-on saved."))
            return redirect("organization_sso", pk=organization.pk)
    direct_link = (
        settings.SITE_URL + reverse("sso_start", kwargs={"slug": organization.slug})
        if connection is not None
        else ""
    )
    callback = (
        settings.SITE_URL
        + reverse("openid_connect_callback", kwargs={"provider_id": connection.provider_id})
        if connection is not None and not connection.is_saml
        else ""
    )
    is_saml = connection.is_saml if connection is not None else False
    saml = saml_urls(organization.slug)
    fingerprint = (
        services.certificate_fingerprint(connection.saml_certificate)
        if connection is not None and is_saml
        else ""
    )
    return render(
        request,
        "sso/connection_form.html",
        {
            "form": form,
            "organization": organization,
            "connection": connection,
            "direct_link": direct_link,
            "callback": callback,
            "saml": saml,
            "is_saml": is_saml,
            "fingerprint": fingerprint,
        },
    )


@login_required
@require_POST
def organization_sso_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    organization: Organization = get_scoped_or_404(Organization, pk=pk)
    if not request.user.is_provider_admin:
        raise PermissionDenied
    connection = SsoConnection.objects.filter(organization=organization).first()
    if connection is None:
        raise Http404
    services.sso_connection_delete(acting_user=request.user, connection=connection)
    messages.success(request, _("Single sign-on removed."))
    return redirect("organization_detail", pk=organization.pk)
