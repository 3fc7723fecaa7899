"""The API's filter backend skips building a FilterSet when no filter parameter is given (issue
17: building one cost more than the rest of a list request). That is only right if a FilterSet
given no parameters leaves the queryset as it is: checked here for every API FilterSet."""

import pytest
from django.http import QueryDict
from django.urls import URLPattern, URLResolver, get_resolver

from cases.casework.filters import CaseFilter
from portal.api.filters import filter_parameters
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db


def api_filtersets(patterns=None) -> set[type]:
    found: set[type] = set()
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            found |= api_filtersets(entry.url_patterns)
        elif isinstance(entry, URLPattern):
            view = getattr(entry.callback, "cls", None)
            filterset = getattr(view, "filterset_class", None)
            if filterset is not None:
                found.add(filterset)
    return found


def test_every_api_filterset_without_parameters_leaves_the_queryset_unchanged():
    filtersets = api_filtersets()
    assert CaseFilter in filtersets and len(filtersets) >= 10
    for filterset_class in filtersets:
        queryset = filterset_class._meta.model._default_manager.all()
        filterset = filterset_class(data=QueryDict(""), queryset=queryset, request=None)
        assert filterset.is_valid(), (filterset_class, filterset.errors)
        assert str(filterset.qs.query) == str(queryset.query), filterset_class


def test_the_parameters_include_both_ends_of_a_range():
    assert {"received_after", "received_before", "status", "engagement"} <= filter_parameters(
        CaseFilter
    )


def test_a_filterset_is_built_only_when_a_filter_is_named(world, monkeypatch):
    built = []
    original = CaseFilter.__init__

    def spy(self, *args, **kwargs):
        built.append(True)
        original(self, *args, **kwargs)

    monkeypatch.setattr(CaseFilter, "__init__", spy)
    client = signed_in(world.manager)
    assert client.get("/api/v1/cases/", {"page_size": 5, "ordering": "severity"}).status_code == 200
    assert built == []
    assert client.get("/api/v1/cases/", {"status": "new"}).status_code == 200
    assert built == [True]
    # Bad values answer as before: the FilterSet's and the strict backend's 400s.
    for params, field in (
        ({"severity": "9"}, "severity"),
        ({"escalated": "maybe"}, "escalated"),
        ({"received_after": ""}, "received_after"),
        ({"engagement": "999999"}, "engagement"),
    ):
        response = client.get("/api/v1/cases/", params)
        assert response.status_code == 400, (params, response.content)
        assert field in response.json()["fields"], response.json()
