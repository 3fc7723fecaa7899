"""Tenant isolation over every registered route and role."""

import pytest
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import include, path

import tests.isolation.routes
import tests.isolation.routes_cases_api
import tests.isolation.routes_cases_pages
import tests.isolation.routes_cases_risks_fixes
import tests.isolation.routes_cases_savedviews
import tests.isolation.routes_catalog
import tests.isolation.routes_engagements_api
import tests.isolation.routes_engagements_pages
import tests.isolation.routes_engagements_profile_advocacy_upgrades
import tests.isolation.routes_reviews_api
import tests.isolation.routes_reviews_health
import tests.isolation.routes_reviews_maintenance_releases
import tests.isolation.routes_reviews_news_enablement_consulting
import tests.isolation.routes_reviews_pages
import tests.isolation.routes_reviews_reports
import tests.isolation.routes_reviews_search
from portal.accounts.services import api_token_create
from portal.tenancy.models import Organization
from portal.tenancy.scoping import ScopeError, system_scope
from tests.conftest import signed_in
from tests.isolation.harness import (
    REGISTRY,
    Route,
    check_detail,
    check_list,
    check_route,
    unregistered_routes,
)

CHECKED = sorted(name for name, route in REGISTRY.items() if route.kind != "exempt")
CASES = [(name, role) for name in CHECKED for role in REGISTRY[name].roles]


def test_every_route_is_registered():
    assert unregistered_routes() == []


@pytest.mark.django_db
@pytest.mark.parametrize(("route_name", "role"), CASES)
def test_other_tenant_is_invisible(world, route_name, role):
    actor = world.user(role)
    world.a.objects["token"], _ = api_token_create(
        user=actor, name=f"token of {actor.email}", scopes=["read"]
    )
    world.b.objects["token"], _ = api_token_create(
        user=world.b.poc, name="token of tenant b", scopes=["read"]
    )
    tests.isolation.routes.webhook_of(world.a, actor)
    tests.isolation.routes.webhook_of(world.b, world.b.poc)
    check_route(signed_in(actor), REGISTRY[route_name], world)


# --- The harness catches a deliberately unscoped view ----------------------------------------


def leaky_detail(request, pk):
    """Deliberately wrong: opens the system scope, so any tenant's organization is served."""
    with system_scope("deliberately unscoped view for the harness self-test"):
        organization = get_object_or_404(Organization.objects.all(), pk=pk)
    return HttpResponse(organization.name)


def leaky_list(request):
    with system_scope("deliberately unscoped view for the harness self-test"):
        names = ", ".join(Organization.objects.values_list("name", flat=True))
    return HttpResponse(names)


def forgetful_detail(request, pk):
    """Scoped by default: even code that forgets nothing special cannot leak."""
    try:
        return HttpResponse(Organization.objects.get(pk=pk).name)
    except Organization.DoesNotExist as exc:
        raise Http404 from exc


urlpatterns = [
    path("leaky/<int:pk>/", leaky_detail, name="leaky_detail"),
    path("leaky/", leaky_list, name="leaky_list"),
    path("forgetful/<int:pk>/", forgetful_detail, name="forgetful_detail"),
    path("", include("portal.site.urls")),
]


@pytest.mark.django_db
@pytest.mark.urls("tests.isolation.test_isolation")
def test_harness_catches_unscoped_detail_view(world):
    route = Route("leaky_detail", "detail", kwargs=lambda w, t: {"pk": t.organization.pk})
    with pytest.raises(AssertionError, match="tenant B's object answered 200"):
        check_detail(signed_in(world.a.poc), route, world)


@pytest.mark.django_db
@pytest.mark.urls("tests.isolation.test_isolation")
def test_harness_catches_unscoped_list_view(world):
    route = Route("leaky_list", "list", marker=lambda w, t: t.organization.name)
    with pytest.raises(AssertionError, match="lists tenant B's data"):
        check_list(signed_in(world.a.poc), route, world)


@pytest.mark.django_db
@pytest.mark.urls("tests.isolation.test_isolation")
def test_plain_orm_code_in_a_request_is_scoped(world):
    route = Route("forgetful_detail", "detail", kwargs=lambda w, t: {"pk": t.organization.pk})
    check_detail(signed_in(world.a.poc), route, world)


@pytest.mark.django_db
@pytest.mark.no_system_scope
def test_queries_outside_any_scope_refuse_to_run(world):
    with pytest.raises(ScopeError):
        list(Organization.objects.all())
    with pytest.raises(ScopeError):
        Organization.objects.filter(pk=world.a.organization.pk).exists()
    with pytest.raises(ScopeError):
        Organization.objects.count()
    with pytest.raises(ScopeError):
        list(world.a.organization.memberships.all())
    # Used as a subquery, an unscoped queryset refuses too instead of matching every tenant.
    from portal.tenancy.models import Membership

    with system_scope("the outer query is fine"):
        outer = Membership.objects.all()
    with pytest.raises(ScopeError):
        list(outer.filter(organization__in=Organization.objects.all()))


@pytest.mark.django_db
def test_form_choices_over_tenant_models_are_scoped(world):
    from django import forms

    from portal.forms import ScopedForm
    from portal.tenancy.scoping import tenant_scope

    class PickOrganization(ScopedForm):
        organization = forms.ModelChoiceField(queryset=Organization.objects.all())

    with tenant_scope(world.a.poc):
        assert PickOrganization({"organization": world.a.organization.pk}).is_valid()
        foreign = PickOrganization({"organization": world.b.organization.pk})
        missing = PickOrganization({"organization": 987654})
        assert not foreign.is_valid() and not missing.is_valid()
        assert foreign.errors == missing.errors
        choices = [label for _value, label in PickOrganization().fields["organization"].choices]
        assert world.b.organization.name not in choices
