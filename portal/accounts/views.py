"""Pages about people: the directory, staff provisioning, preferences and API tokens."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from portal.accounts import services
from portal.accounts.forms import ApiTokenForm, PreferencesForm, StaffPersonForm
from portal.accounts.models import ApiToken
from portal.accounts.selectors import api_tokens_of, users_visible_to
from portal.errors import DomainError
from portal.http import AuthenticatedHttpRequest
from portal.pages import admin_required, apply_domain_error, get_scoped_or_404
from portal.tenancy.models import Membership

PEOPLE_PAGE_SIZE = 50


@login_required
def people_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The people the viewer may see, a page of `PEOPLE_PAGE_SIZE` at a time: an admin sees
    every person of every organization, so the page reads one page's people and their
    memberships, never the whole provider (issue 17)."""
    people = (
        users_visible_to(request.user)
        .prefetch_related(
            Prefetch("memberships", queryset=Membership.objects.select_related("organization"))
        )
        .order_by("kind", "email", "id")
    )
    page = Paginator(people, PEOPLE_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "accounts/people_list.html", {"page": page})


@admin_required
@require_http_methods(["GET", "POST"])
def staff_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = StaffPersonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_provision(acting_user=request.user, **form.cleaned_data)
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(
                request,
                _("%(email)s added; a welcome e-mail is on its way.") % {"email": user.email},
            )
            return redirect("people_list")
    return render(request, "accounts/staff_form.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = PreferencesForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        services.user_update(acting_user=request.user, user=request.user, **form.cleaned_data)
        messages.success(request, _("Preferences saved."))
        return redirect("preferences")
    return render(request, "accounts/preferences.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        try:
            _token, new_token = services.api_token_create(
                user=request.user,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                expires_at=form.expires_at(),
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            form = ApiTokenForm()
    return render(
        request,
        "accounts/api_tokens.html",
        {"form": form, "tokens": api_tokens_of(request.user), "new_token": new_token},
    )


@login_required
@require_POST
def api_token_revoke(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    # Tokens belong to one user: someone else's answers 404, like a missing one.
    token = get_scoped_or_404(ApiToken, pk=pk, user=request.user)
    services.api_token_revoke(token=token, acting_user=request.user)
    messages.success(request, _("Token %(name)s revoked.") % {"name": token.name})
    return redirect("api_tokens")
