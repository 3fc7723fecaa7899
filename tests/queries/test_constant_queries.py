"""Constant queries: no page or list's query count grows with its rows (3 rows vs 30).

Data-driven over `registry.QUERY_REGISTRY`: each measured route is fetched once to warm up the
session and caches, then counted at 3 rows and at 30 rows of the kinds it lists (`rows.py`).
The counts must be equal. The registry must name every route of the URLconf, so a new page or
list cannot go unmeasured.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import include, reverse
from django.urls import path as url_path

from tests.conftest import signed_in
from tests.isolation.harness import MISSING_ID, walk_routes
from tests.queries.registry import EXEMPT_PREFIXES, QUERY_REGISTRY
from tests.queries.rows import MAKERS

MEASURED = [
    (name, role)
    for name, route in sorted(QUERY_REGISTRY.items())
    for role in route.roles  # measured here, or covered elsewhere for other roles
]
POST_ONLY = sorted(name for name, route in QUERY_REGISTRY.items() if route.status == "post_only")
ROOT = Path(__file__).resolve().parents[2]
_PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>")


def _routes() -> dict[str, str]:
    """Route name -> its first path pattern, for every named route outside the exempt prefixes."""
    routes: dict[str, str] = {}
    for name, path in walk_routes():
        clean = path.lstrip("^")
        if any(clean.startswith(prefix) for prefix in EXEMPT_PREFIXES):
            continue
        routes.setdefault(name or f"(unnamed) {path}", path)
    return routes


def test_every_route_is_registered():
    routes = _routes()
    missing = sorted(
        f"{name} -> {path}" for name, path in routes.items() if name not in QUERY_REGISTRY
    )
    assert missing == [], "register these in tests/queries/registry.py"
    stale = sorted(set(QUERY_REGISTRY) - set(routes))
    assert stale == [], "these registered routes are no longer in the URLconf"


def test_every_measured_route_grows_known_rows():
    unknown = {
        name: kind
        for name, route in QUERY_REGISTRY.items()
        for kind in route.grow
        if kind not in MAKERS
    }
    assert unknown == {}


def test_covering_tests_exist():
    """A route counted as covered names a test that still exists."""
    gone = []
    for name, route in sorted(QUERY_REGISTRY.items()):
        if route.status != "covered":
            continue
        path, test = route.covered_by.split("::")
        source = ROOT / path
        if not source.exists() or f"def {test}(" not in source.read_text():
            gone.append(f"{name}: {route.covered_by}")
    assert gone == []


@pytest.mark.django_db
def test_post_only_routes_refuse_get(world):
    """Routes registered as POST-only answer GET with 405, so they list nothing."""
    routes = _routes()
    client = signed_in(world.manager)
    wrong = []
    for name in POST_ONLY:
        kwargs = {
            key: MISSING_ID for pair in _PARAMETER.findall(routes[name]) for key in pair if key
        }
        status = client.get(reverse(name, kwargs=kwargs)).status_code
        if status != 405:
            wrong.append(f"{name}: {status}")
    assert wrong == []


def _differences(few: CaptureQueriesContext, many: CaptureQueriesContext) -> str:
    """The statements that ran a different number of times, to point at the N+1."""

    def shapes(context):
        return Counter(re.sub(r"\d+", "N", query["sql"]) for query in context.captured_queries)

    before, after = shapes(few), shapes(many)
    lines = [
        f"{before[sql]} -> {after[sql]}: {sql[:300]}"
        for sql in sorted(set(before) | set(after))
        if before[sql] != after[sql]
    ]
    return "\n".join(lines)


def check_constant(client, url, params, grow, label, *, shows=True) -> None:
    """Warm up, count at 3 rows, grow to 30, count again: the counts must be equal."""
    grow(3)
    warm = client.get(url, params)  # the session's first request, caches
    assert warm.status_code == 200, f"{label}: {warm.status_code}"
    with CaptureQueriesContext(connection) as few:
        assert client.get(url, params).status_code == 200
    markers = grow(27)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url, params)
    assert response.status_code == 200
    if shows:
        body = response.content.decode()
        assert any(marker in body for marker in markers), (
            f"{label}: none of the grown rows {markers} is shown"
        )
    assert len(many) == len(few), (
        f"{label}: {len(few)} queries at 3 rows, {len(many)} at 30\n" + _differences(few, many)
    )


@pytest.mark.django_db
@pytest.mark.parametrize(("route_name", "role"), MEASURED)
def test_queries_do_not_grow_with_rows(world, route_name, role):
    route = QUERY_REGISTRY[route_name]
    user = world.user(role)
    url = reverse(route_name, kwargs=route.url_kwargs(world, user))
    params = route.params(world) if route.params else {}
    client = Client() if route.anonymous else signed_in(user)

    def grow(count: int) -> list[str]:
        return [MAKERS[kind](world, world.a.objects, count) for kind in route.grow]

    check_constant(client, url, params, grow, f"{route_name} as {role}", shows=route.shows)


# --- The harness catches a deliberate N+1 ------------------------------------------------------


def n_plus_one(request):
    """Deliberately wrong: one query per organization for its member count."""
    from portal.tenancy.models import Organization

    rows = [f"{org.name}: {org.memberships.count()}" for org in Organization.objects.all()]
    return HttpResponse(", ".join(rows))


urlpatterns = [
    url_path("n-plus-one/", n_plus_one, name="n_plus_one"),
    url_path("", include("portal.site.urls")),
]


@pytest.mark.django_db
@pytest.mark.urls("tests.queries.test_constant_queries")
def test_harness_catches_an_n_plus_one(world):
    def grow(count: int) -> list[str]:
        return [MAKERS["organizations"](world, {}, count)]

    with pytest.raises(AssertionError, match=r"queries at 3 rows, \d+ at 30"):
        check_constant(signed_in(world.admin), "/n-plus-one/", {}, grow, "n_plus_one")
