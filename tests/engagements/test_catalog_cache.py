"""The cached catalog snapshot (functions and the entitlement matrix) of the dashboard's cards and
the weekly board: read from the cache once filled, and any catalog change shows on the next
request (issue 17)."""

import sys

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from engagements.catalog import services
from engagements.catalog.models import Entitlement, ServiceFunction
from engagements.catalog.selectors import CATALOG_KEY, catalog_snapshot
from tests.conftest import page_client as signed_in
from tests.conftest import services_act_in_their_scope
from tests.factories import AdminFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _services_in_the_actors_scope(monkeypatch):
    services_act_in_their_scope(monkeypatch, sys.modules[__name__])


def dashboard(client) -> str:
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    return response.content.decode()


def catalog_queries(queries) -> list[str]:
    """Reads of the catalog itself (other sections join the matrix to filter their rows)."""
    tables = ('FROM "engagements_entitlement"', 'FROM "engagements_servicefunction"')
    return [query["sql"] for query in queries if any(table in query["sql"] for table in tables)]


def test_the_cards_read_the_catalog_from_the_cache_once_filled(world):
    poc = signed_in(world.a.poc)
    dashboard(poc)
    with CaptureQueriesContext(connection) as queries:
        body = dashboard(poc)
    assert catalog_queries(queries.captured_queries) == []
    plan = world.a.objects["engagement"].plan
    included = plan.entitlements.count()
    assert included and f"Includes {included} service functions" in body


def test_a_matrix_change_shows_on_the_next_request(world, django_capture_on_commit_callbacks):
    poc = signed_in(world.a.poc)
    plan = world.a.objects["engagement"].plan
    function = ServiceFunction.objects.get(code="release_management")
    assert plan.entitlements.filter(function=function).exists()
    before = dashboard(poc)
    included = plan.entitlements.count()
    assert f"Includes {included} service functions" in before
    assert f"<li>{function.display_name}</li>" in before

    with django_capture_on_commit_callbacks(execute=True):
        services.entitlement_matrix_set(
            acting_user=AdminFactory(),
            cells=Entitlement.objects.exclude(plan=plan, function=function).values_list(
                "plan_id", "function_id"
            ),
        )
    after = dashboard(poc)
    assert f"Includes {included - 1} service functions" in after
    assert f"<li>{function.display_name}</li>" not in after
    assert function.code not in catalog_snapshot().codes_of(plan.pk)


def test_a_renamed_function_shows_on_the_next_request(world, django_capture_on_commit_callbacks):
    poc = signed_in(world.a.poc)
    function = ServiceFunction.objects.get(code="release_management")
    assert f"<li>{function.display_name}</li>" in dashboard(poc)
    with django_capture_on_commit_callbacks(execute=True):
        services.service_function_save(
            acting_user=AdminFactory(),
            function=function,
            name="Release shepherding",
            name_ko="릴리스 안내",
        )
    assert "<li>Release shepherding</li>" in dashboard(poc)
    assert [f.name for f in catalog_snapshot().functions if f.code == function.code] == [
        "Release shepherding"
    ]


def test_a_change_before_its_commit_is_not_kept_past_it(world, django_capture_on_commit_callbacks):
    """A request that fills the cache while a change is still uncommitted reads the old rows;
    the change's commit drops that again."""
    function = ServiceFunction.objects.get(code="release_management")
    with django_capture_on_commit_callbacks(execute=True):
        function.name = "Renamed"
        function.save()
        catalog_snapshot()  # another request, in between (here it sees the new row)
        cache.set(CATALOG_KEY, "stale")  # what a request of the old rows put back
    assert catalog_snapshot() != "stale"
    assert [f.name for f in catalog_snapshot().functions if f.code == function.code] == ["Renamed"]


def test_each_process_keeps_its_copy_for_a_second(world, monkeypatch):
    """Another process's change (here: a row changed without this process's signals, and the
    shared copy dropped) shows once this process's copy of the last second has expired."""
    from engagements.catalog import selectors

    clock = [1000.0]
    monkeypatch.setattr(selectors.time, "monotonic", lambda: clock[0])
    function = ServiceFunction.objects.get(code="release_management")
    first = catalog_snapshot()
    ServiceFunction.objects.filter(pk=function.pk).update(name="Changed elsewhere")
    cache.delete(CATALOG_KEY)
    reads = []
    monkeypatch.setattr(selectors.cache, "get", lambda *args: reads.append(args))
    clock[0] += selectors.LOCAL_SECONDS - 0.01
    with CaptureQueriesContext(connection) as queries:
        assert catalog_snapshot() is first
    assert queries.captured_queries == [] and reads == []
    clock[0] += 0.02
    names = [f.name for f in catalog_snapshot().functions if f.code == function.code]
    assert names == ["Changed elsewhere"] and len(reads) == 1
